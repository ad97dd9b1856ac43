// The operators' API: refused to everyone but operators on every route, promo campaigns, the
// fleet, the dashboard and the record of actions.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endRide } from '../../src/movr/rides.ts';
import { grantOperator } from '../../src/movr/operators.ts';
import { DEFAULT_PRICE_LIST } from '../../src/movr/pricing.ts';
import { apiRoutes } from '../../src/web/api/index.ts';
import { operatorRoutes } from '../../src/web/plugins/operator.ts';
import { buildTestApp } from '../support/app.ts';
import { createRide, createVehicle, insertPromoCode } from '../support/factories.ts';
import { snapshot } from '../support/snapshot.ts';
import { describeEachDatabase, emptyTables } from '../support/databases.ts';
import { ApiClient, type TestUser, errorCode, registeredUser } from './helpers.ts';

const SOME_ID = '3f1e4c2a-9b7d-4e61-8a5f-0c2d9e8b7a61';

/** A route's URL with its parameters filled in. */
function urlOf(url: string): string {
  return url.replace(':city', 'new%20york').replace(':id', SOME_ID).replace(':code', 'NO-SUCH-CODE');
}

describeEachDatabase('API operator', (t) => {
  let app: FastifyInstance;
  let operator: TestUser;
  let rider: TestUser;

  beforeAll(async () => {
    await emptyTables(t.db);
    app = await buildTestApp(t.db);
    operator = await registeredUser(app, { city: 'new york', name: 'Olga Operator' });
    rider = await registeredUser(app, { city: 'new york', name: 'Rita Rider' });
    await grantOperator(t.db, operator.username ?? '');
  });
  afterAll(async () => {
    await app?.close();
  });

  describe('access', () => {
    it('registers operator API routes, every one of them under /api/v1/operator and secured', () => {
      const api = operatorRoutes(app).filter((route) => route.url.startsWith('/api/'));
      expect(api.length).toBeGreaterThanOrEqual(12);
      for (const route of api) {
        const registered = apiRoutes(app).find((r) => r.method === route.method && r.url === route.url);
        expect(registered?.schema?.security, `${route.method} ${route.url}`).toBeDefined();
      }
    });

    it('every operator API route: 401 without credentials, 403 not_operator for a rider (nothing changes), never 401/403 for an operator', async () => {
      const routes = operatorRoutes(app).filter((route) => route.url.startsWith('/api/'));
      for (const route of routes) {
        const url = urlOf(route.url);
        const where = `${route.method} ${url}`;
        const before = await snapshot(t.db);
        const visitor = await new ApiClient(app).request(route.method, url, { body: {} });
        expect(visitor.status, where).toBe(401);
        const refused = await rider.client.request(route.method, url, { body: {} });
        expect(refused.status, where).toBe(403);
        expect(errorCode(refused), where).toBe('not_operator');
        expect(await snapshot(t.db), where).toEqual(before);
        const allowed = await operator.client.request(route.method, url, { body: {} });
        expect([401, 403], `${where}: ${allowed.status}`).not.toContain(allowed.status);
        expect(allowed.status, where).toBeLessThan(500);
      }
    });

    it('a revoked operator is refused at once', async () => {
      const former = await registeredUser(app, { city: 'boston' });
      await grantOperator(t.db, former.username ?? '');
      expect((await former.client.get('/api/v1/operator/actions')).status).toBe(200);
      const { revokeOperator } = await import('../../src/movr/operators.ts');
      await revokeOperator(t.db, former.username ?? '');
      expect(errorCode(await former.client.get('/api/v1/operator/actions'))).toBe('not_operator');
    });
  });

  describe('promo campaigns', () => {
    it('creates, lists, changes, gives and ends a code, recording each action', async () => {
      const created = await operator.client.post('/api/v1/operator/promo-codes', {
        code: 'SPRING-5',
        description: '$5 off in us-east1',
        amount_off_cents: 500,
        redemption_limit: 2,
        regions: ['us-east1'],
        listed: false,
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect(created.body.promo_code).toMatchObject({
        code: 'SPRING-5',
        discount_type: 'fixed',
        amount_off_cents: 500,
        percent_off: null,
        redemption_limit: 2,
        redemptions: 0,
        per_rider_limit: 1,
        regions: ['us-east1'],
        cities: ['new york', 'boston', 'washington dc'],
        listed: false,
        state: 'active',
      });
      expect(errorCode(await operator.client.post('/api/v1/operator/promo-codes', { code: 'SPRING-5', percent_off: 5 }))).toBe('promo_code_exists');

      // Unlisted: riders do not see it, but it can be given to them.
      const listed = await new ApiClient(app).get('/api/v1/promo-codes?limit=100');
      expect(listed.body.items.map((c: { code: string }) => c.code)).not.toContain('SPRING-5');
      const given = await operator.client.post('/api/v1/operator/promo-codes/SPRING-5/grants', { username: rider.username });
      expect(given.status, JSON.stringify(given.body)).toBe(201);
      const mine = await rider.client.get('/api/v1/me/promo-codes');
      expect(mine.body.items.map((c: { code: string }) => c.code)).toContain('SPRING-5');

      const changed = await operator.client.patch('/api/v1/operator/promo-codes/SPRING-5', { percent_off: 20, listed: true, per_rider_limit: 3 });
      expect(changed.status, JSON.stringify(changed.body)).toBe(200);
      expect(changed.body.promo_code).toMatchObject({ discount_type: 'percent', percent_off: 20, listed: true, per_rider_limit: 3, redemptions: 1 });
      expect((await operator.client.patch('/api/v1/operator/promo-codes/SPRING-5', { redemption_limit: 0 })).status).toBe(400);

      const ended = await operator.client.post('/api/v1/operator/promo-codes/SPRING-5/end');
      expect(ended.body.promo_code.state).toBe('ended');
      expect(errorCode(await operator.client.post('/api/v1/operator/promo-codes/SPRING-5/end'))).toBe('promo_code_ended');
      expect(errorCode(await operator.client.patch('/api/v1/operator/promo-codes/SPRING-5', { listed: false }))).toBe('promo_code_ended');

      const endedList = await operator.client.get('/api/v1/operator/promo-codes?state=ended');
      expect(endedList.body.items.map((c: { code: string }) => c.code)).toEqual(['SPRING-5']);

      const actions = await operator.client.get('/api/v1/operator/actions');
      const mineActions = actions.body.items.filter((a: { subject: string }) => a.subject === 'SPRING-5');
      expect(mineActions.map((a: { action: string }) => a.action)).toEqual([
        'promo_code_ended',
        'promo_code_updated',
        'promo_code_given',
        'promo_code_created',
      ]);
      expect(mineActions[0]).toMatchObject({ operator_id: operator.id, operator_username: operator.username });
    });

    it('refuses bad campaigns with 400 naming the API’s fields', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ code: 'X1' }, 'percent_off'],
        [{ code: 'X2', percent_off: 10, amount_off_cents: 100 }, 'percent_off'],
        [{ code: 'X3', percent_off: 120 }, 'percent_off'],
        [{ code: 'X4', amount_off_cents: 0 }, 'amount_off_cents'],
        [{ code: 'X5', percent_off: 10, per_rider_limit: 0 }, 'per_rider_limit'],
        [{ code: 'X6', percent_off: 10, cities: ['atlantis'] }, 'cities.0'],
        [{ code: 'X7', percent_off: 10, starts_at: '2030-01-02T00:00:00Z', expires_at: '2030-01-01T00:00:00Z' }, 'expires_at'],
        [{ code: 'bad code!', percent_off: 10 }, 'code'],
      ];
      for (const [body, field] of cases) {
        const response = await operator.client.post('/api/v1/operator/promo-codes', body);
        expect(response.status, JSON.stringify(body)).toBe(400);
        expect(response.body.error.fields.map((f: { path: string }) => f.path), JSON.stringify(body)).toContain(field);
      }
    });

    it('riders see only listed codes that apply in their city; a used-up code is refused', async () => {
      await operator.client.post('/api/v1/operator/promo-codes', { code: 'PARIS-ONLY', percent_off: 10, cities: ['paris'] });
      await operator.client.post('/api/v1/operator/promo-codes', { code: 'ONE-ONLY', percent_off: 10, redemption_limit: 1 });
      const forNewYork = await new ApiClient(app).get('/api/v1/promo-codes?limit=100&city=new%20york');
      expect(forNewYork.body.items.map((c: { code: string }) => c.code)).not.toContain('PARIS-ONLY');
      const forParis = await new ApiClient(app).get('/api/v1/promo-codes?limit=100&city=paris');
      expect(forParis.body.items.map((c: { code: string }) => c.code)).toContain('PARIS-ONLY');
      expect(errorCode(await rider.client.post('/api/v1/me/promo-codes', { code: 'PARIS-ONLY' }))).toBe('promo_code_not_here');
      expect((await rider.client.post('/api/v1/me/promo-codes', { code: 'ONE-ONLY' })).status).toBe(201);
      const second = await registeredUser(app, { city: 'new york' });
      const refused = await second.client.post('/api/v1/me/promo-codes', { code: 'ONE-ONLY' });
      expect(refused.status).toBe(409);
      expect(errorCode(refused)).toBe('promo_code_exhausted');
    });
  });

  describe('the fleet', () => {
    it('reports a vehicle lost (out of the riders’ list), marks it found, and shows the city’s fleet', async () => {
      const id = await createVehicle(t.db, { city: 'seattle' });
      const lost = await operator.client.post(`/api/v1/operator/vehicles/seattle/${id}/lost`);
      expect(lost.status, JSON.stringify(lost.body)).toBe(200);
      expect(lost.body.vehicle.status).toBe('lost');
      expect(errorCode(await operator.client.post(`/api/v1/operator/vehicles/seattle/${id}/lost`))).toBe('vehicle_lost');
      const offered = await new ApiClient(app).get('/api/v1/vehicles?city=seattle');
      expect(offered.body.items.map((v: { id: string }) => v.id)).not.toContain(id);
      const fleet = await operator.client.get('/api/v1/operator/fleet/seattle');
      expect(fleet.status).toBe(200);
      expect(fleet.body.lost.map((v: { id: string }) => v.id)).toEqual([id]);
      expect(fleet.body.by_status).toContainEqual({ status: 'lost', vehicles: 1 });
      const all = await operator.client.get('/api/v1/operator/fleet/seattle/vehicles?status=lost');
      expect(all.body.items.map((v: { id: string }) => v.id)).toEqual([id]);
      const found = await operator.client.post(`/api/v1/operator/vehicles/seattle/${id}/found`, { current_location: '1 Pike Place' });
      expect(found.body.vehicle).toMatchObject({ status: 'available', current_location: '1 Pike Place' });
      const again = await operator.client.post(`/api/v1/operator/vehicles/seattle/${id}/found`);
      expect(errorCode(again), JSON.stringify(again.body)).toBe("vehicle_not_lost");
      expect(errorCode(await operator.client.get('/api/v1/operator/fleet/atlantis'))).toBe('city_not_found');
    });
  });

  describe('the dashboard', () => {
    it('counts a region’s and a city’s ended rides and revenue, and refuses unknown scopes', async () => {
      const ride = await createRide(t.db, rider, { now: new Date(Date.now() - 30 * 60_000) });
      await endRide(t.db, rider, ride, 'Back home', { priceList: DEFAULT_PRICE_LIST });
      const region = await operator.client.get('/api/v1/operator/dashboard?region=us-east1');
      expect(region.status, JSON.stringify(region.body)).toBe(200);
      expect(region.body.totals.rides).toBe(1);
      expect(region.body.totals.revenue_cents).toBeGreaterThan(0);
      expect(region.body.cities).toEqual(['new york', 'boston', 'washington dc']);
      expect(region.body.bucket).toBe('day');
      expect(region.body.series).toHaveLength(8);
      expect(region.body.busiest_vehicles[0]).toMatchObject({ id: ride.vehicleId, rides: 1 });
      const city = await operator.client.get('/api/v1/operator/dashboard?city=boston&bucket=hour');
      expect(city.body.totals.rides).toBe(0);
      expect(errorCode(await operator.client.get('/api/v1/operator/dashboard?region=mars'))).toBe('region_not_found');
      expect((await operator.client.get('/api/v1/operator/dashboard')).status).toBe(400);
      expect((await operator.client.get('/api/v1/operator/dashboard?city=boston&from=2026-01-01T00:00:00Z&to=2025-01-01T00:00:00Z')).status).toBe(400);
      await insertPromoCode(t.db, 'UNUSED');
    });
  });
});
