// The operators' pages: every /operator route refused to visitors (log-in page) and riders (403),
// and what operators do there: the dashboard and its CSV, promo campaigns, the fleet, the record.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantOperator } from '../../../src/movr/operators.ts';
import { DEFAULT_PRICE_LIST } from '../../../src/movr/pricing.ts';
import { endRide } from '../../../src/movr/rides.ts';
import { type User } from '../../../src/movr/users.ts';
import { operatorRoutes } from '../../../src/web/plugins/operator.ts';
import { buildTestApp } from '../../support/app.ts';
import { createRide, createUser, createVehicle } from '../../support/factories.ts';
import { describeEachDatabase, emptyTables } from '../../support/databases.ts';
import { snapshot } from '../../support/snapshot.ts';
import { type Browser, csrfFieldOf, fieldErrorOf, formTokenOf, loggedInBrowser } from '../helpers.ts';

const SOME_ID = '3f1e4c2a-9b7d-4e61-8a5f-0c2d9e8b7a61';
const urlOf = (url: string) => url.replace(':city', 'boston').replace(':id', SOME_ID).replace(':code', 'NO-SUCH-CODE');

describeEachDatabase('operator pages', (t) => {
  let app: FastifyInstance;
  let operatorUser: User;
  let riderUser: User;
  let operator: Browser;
  let rider: Browser;

  beforeAll(async () => {
    await emptyTables(t.db);
    app = await buildTestApp(t.db);
    [operatorUser, riderUser] = await Promise.all([createUser(t.db, { city: 'boston' }), createUser(t.db, { city: 'boston' })]);
    await grantOperator(t.db, operatorUser.username ?? '');
    operator = await loggedInBrowser(app, operatorUser.username ?? '');
    rider = await loggedInBrowser(app, riderUser.username ?? '');
  });
  afterAll(async () => {
    await app?.close();
  });

  it('every operator page route: visitors go to the log-in page, riders get 403 (and nothing changes), operators get in', async () => {
    const routes = operatorRoutes(app).filter((route) => !route.url.startsWith('/api/'));
    expect(routes.length).toBeGreaterThanOrEqual(14);
    const riderToken = await formTokenOf(rider, '/profile');
    const operatorToken = await formTokenOf(operator, '/profile');
    for (const route of routes) {
      const url = urlOf(route.url);
      const where = `${route.method} ${url}`;
      const before = await snapshot(t.db);
      const visitor = await app.inject({ method: route.method as 'GET', url, headers: { accept: 'text/html' } });
      expect(visitor.statusCode, where).toBe(303);
      expect(visitor.headers.location, where).toMatch(/^\/login/);
      const refused =
        route.method === 'GET' ? await rider.get(url) : await rider.postForm(url, { _csrf: riderToken, code: 'X', username: 'x' });
      expect(refused.statusCode, where).toBe(403);
      expect(refused.body, where).toContain('This part of MovR is for operators only.');
      expect(await snapshot(t.db), where).toEqual(before);
      const allowed =
        route.method === 'GET' ? await operator.get(url) : await operator.postForm(url, { _csrf: operatorToken, code: 'X', username: 'x' });
      expect([401, 403, 500], `${where}: ${allowed.statusCode}`).not.toContain(allowed.statusCode);
    }
  });

  it('refuses an operator’s form sent without its CSRF token (403) and changes nothing', async () => {
    const id = await createVehicle(t.db, { city: 'boston' });
    const before = await snapshot(t.db);
    for (const url of ['/operator/promo-codes', `/operator/fleet/boston/${id}/lost`]) {
      const response = await operator.postForm(url, { code: 'NO-TOKEN', discountType: 'percent', discountValue: '10' });
      expect(response.statusCode, url).toBe(403);
      expect(response.body, url).toContain('This form has expired or was not sent from MovR.');
    }
    expect(await snapshot(t.db)).toEqual(before);
  });

  it('shows the dashboard with its charts and figures, links the CSV export, and exports the rides', async () => {
    const ride = await createRide(t.db, riderUser, { now: new Date(Date.now() - 20 * 60_000) });
    await endRide(t.db, riderUser, ride, 'Fenway', { priceList: DEFAULT_PRICE_LIST });
    const page = await operator.get('/operator/dashboard?region=us-east1');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<svg');
    expect(page.body).toContain('Revenue per day');
    expect(page.body).toContain('Revenue per city');
    expect(page.body).toMatch(/data-stat="rides">1</);
    expect(page.body).toContain('href="/operator"');
    const city = await operator.get('/operator/dashboard?city=boston&bucket=hour&from=' + new Date().toISOString().slice(0, 10));
    expect(city.body).toContain('Revenue per hour');
    const go = await operator.get('/operator/dashboard/go?scope=city%3Aboston&from=2026-01-01&to=2026-01-07');
    expect(go.headers.location).toBe('/operator/dashboard?city=boston&from=2026-01-01&to=2026-01-07');
    const csv = await operator.get('/operator/export.csv?region=us-east1');
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.headers['content-disposition']).toMatch(/^attachment; filename="movr-rides-us-east1-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.csv"$/);
    const lines = csv.body.trim().split('\n');
    expect(lines[0]).toBe('city,ride_id,vehicle_id,vehicle_type,rider_id,start_time,end_time,minutes,fare,discount,promo_code,revenue,currency');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(`boston,${ride.id},`);
    expect(lines[1]).toMatch(/,USD$/);
    // Europe's money is in euros: the figures and the charts' units.
    const europe = await operator.get('/operator/dashboard?region=europe-west1');
    expect(europe.body).toMatch(/data-stat="revenue">€0\.00</);
    expect(europe.body).toContain('revenue (EUR)');
    expect(europe.body).not.toContain('revenue (USD)');
    const bad = await operator.get('/operator/dashboard?city=boston&from=2020-01-01&to=2026-01-01');
    expect(bad.statusCode).toBe(200);
    expect(bad.body).toContain('A period is at most 92 days.');
  });

  it('creates a promo code through the form, shows errors by field, edits, gives and ends it', async () => {
    const token = await formTokenOf(operator, '/operator/promo-codes/new');
    const invalid = await operator.postForm('/operator/promo-codes', { _csrf: token, code: 'BAD CODE', discountType: 'percent', discountValue: '150' });
    expect(invalid.statusCode).toBe(400);
    expect(fieldErrorOf(invalid.body, 'code')).toMatch(/letters, digits/);
    expect(fieldErrorOf(invalid.body, 'discountValue')).toBe('The discount must be more than 0% and at most 100%.');
    const form = new URLSearchParams({ _csrf: token, code: 'BOS-2', discountType: 'fixed', discountValue: '2.50', perRiderLimit: '2', listed: 'yes' });
    form.append('cities', 'boston');
    form.append('cities', 'new york');
    const created = await operator.request({
      method: 'POST',
      url: '/operator/promo-codes',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: form.toString(),
    });
    expect(created.statusCode, created.body).toBe(303);
    expect(created.headers.location).toBe('/operator/promo-codes/BOS-2');
    const shown = await operator.get('/operator/promo-codes/BOS-2');
    expect(shown.body).toContain('$2.50 off');
    expect(shown.body).toMatch(/name="cities" value="boston" checked/);
    expect((await operator.get('/operator/promo-codes')).body).toContain('data-code="BOS-2"');

    const edit = csrfFieldOf(shown.body) ?? '';
    const saved = await operator.postForm('/operator/promo-codes/BOS-2', { _csrf: edit, discountType: 'percent', discountValue: '15', perRiderLimit: '1', redemptionLimit: '5' });
    expect(saved.statusCode, saved.body).toBe(303);
    expect((await operator.get('/operator/promo-codes/BOS-2')).body).toContain('15% off');

    const unknown = await operator.postForm('/operator/promo-codes/BOS-2/give', { _csrf: edit, username: 'nobody-at-all' });
    expect(unknown.statusCode).toBe(404);
    expect(fieldErrorOf(unknown.body, 'username')).toBe('There is no user &quot;nobody-at-all&quot;.');
    const given = await operator.postForm('/operator/promo-codes/BOS-2/give', { _csrf: edit, username: riderUser.username ?? '' });
    expect(given.statusCode).toBe(303);
    expect((await rider.get('/promo-codes')).body).toContain('data-code="BOS-2"');

    const ended = await operator.postForm('/operator/promo-codes/BOS-2/end', { _csrf: edit });
    expect(ended.statusCode).toBe(303);
    expect((await operator.get('/operator/promo-codes?state=ended')).body).toContain('data-code="BOS-2"');
    const actions = await operator.get('/operator/actions');
    for (const what of ['promo code created', 'promo code updated', 'promo code given', 'promo code ended']) expect(actions.body).toContain(what);
  });

  it('reports a vehicle lost and marks it found from the fleet page', async () => {
    const id = await createVehicle(t.db, { city: 'boston', creationTime: new Date(Date.now() - 5 * 86_400_000) });
    const fleet = await operator.get('/operator/fleet/boston');
    expect(fleet.statusCode).toBe(200);
    expect(fleet.body).toContain(`data-vehicle-id="${id}"`);
    const token = csrfFieldOf(fleet.body) ?? '';
    expect((await operator.postForm(`/operator/fleet/boston/${id}/lost`, { _csrf: token })).statusCode).toBe(303);
    expect((await app.inject({ url: '/cities/boston/vehicles' })).body).not.toContain(id);
    const again = await operator.postForm(`/operator/fleet/boston/${id}/lost`, { _csrf: token });
    expect(again.statusCode).toBe(303);
    expect((await operator.get('/operator/fleet/boston')).body).toContain('This vehicle is already reported lost.');
    expect((await operator.postForm(`/operator/fleet/boston/${id}/found`, { _csrf: token, location: '1 Yawkey Way' })).statusCode).toBe(303);
    expect((await app.inject({ url: '/cities/boston/vehicles' })).body).toContain(id);
    expect((await operator.get('/operator/fleet/atlantis')).statusCode).toBe(404);
  });
});

describe('operator pages', () => {
  it('are listed by path prefix', async () => {
    const { isOperatorPath } = await import('../../../src/web/plugins/operator.ts');
    expect(isOperatorPath('/operator')).toBe(true);
    expect(isOperatorPath('/operator/fleet?x=1')).toBe(true);
    expect(isOperatorPath('/operators')).toBe(false);
    expect(isOperatorPath('/api/v1/operator/actions')).toBe(true);
    expect(isOperatorPath('/api/v1/operatorx')).toBe(false);
  });
});
