// Where things are, through the API: vehicles carry lat/long (and take them when added), near=
// lists the nearest available vehicles with distance_m, and rides say their currency.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../support/app.ts';
import { createVehicle } from '../support/factories.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { ApiClient, cityPath, errorCode, quickUser } from './helpers.ts';

const AMSTERDAM = { lat: 52.3676, long: 4.9041 };
const north = (metres: number) => ({ lat: AMSTERDAM.lat + metres / 111_320, long: AMSTERDAM.long });

describeEachDatabase('API: positions, near me, currencies', (t) => {
  let app: FastifyInstance;
  let anonymous: ApiClient;
  const ids: string[] = [];

  beforeAll(async () => {
    app = await buildTestApp(t.db);
    anonymous = new ApiClient(app);
    for (const metres of [900, 100, 400]) ids.push(await createVehicle(t.db, { city: 'amsterdam', ...north(metres) }));
    await createVehicle(t.db, { city: 'amsterdam', status: 'in_use', ...north(10) });
  });
  afterAll(() => app.close());

  describe('GET /vehicles?near=', () => {
    it('lists the available vehicles nearest first, each with distance_m and its position', async () => {
      const response = await anonymous.get(`/api/v1/vehicles?city=amsterdam&near=${AMSTERDAM.lat},${AMSTERDAM.long}`);
      expect(response.status).toBe(200);
      expect(response.body.items.map((v: { id: string }) => v.id)).toEqual([ids[1], ids[2], ids[0]]);
      expect(response.body.items.map((v: { distance_m: number }) => v.distance_m)).toEqual([100, 400, 900]);
      expect(response.body.items[0]).toMatchObject({ status: 'available', lat: north(100).lat, long: AMSTERDAM.long });
      expect(response.body.next_cursor).toBeNull();
      const two = await anonymous.get(`/api/v1/vehicles?city=amsterdam&near=${AMSTERDAM.lat},${AMSTERDAM.long}&limit=2&status=available`);
      expect(two.body.items).toHaveLength(2);
    });

    it('leaves distance_m out of the plain list', async () => {
      const response = await anonymous.get('/api/v1/vehicles?city=amsterdam');
      expect(response.status).toBe(200);
      expect(response.body.items[0]).not.toHaveProperty('distance_m');
      expect(response.body.items[0]).toHaveProperty('lat');
    });

    it('answers 400 with the field for a malformed or impossible point, a cursor or another status', async () => {
      for (const [query, path, message] of [
        ['near=52.3', 'near', /latitude,longitude/],
        ['near=abc,def', 'near', /latitude,longitude/],
        ['near=52.3,4.9,1', 'near', /latitude,longitude/],
        ['near=95,4.9', 'near', /Latitude must be between -90 and 90/],
        ['near=52.3,4.9&cursor=00000000-0000-4000-8000-000000000000', 'cursor', /one page/],
        ['near=52.3,4.9&status=in_use', 'status', /available vehicles only/],
        ['near=52.3,4.9&status=lost', 'status', /lost and retired vehicles are never listed/],
      ] as const) {
        const response = await anonymous.get(`/api/v1/vehicles?city=amsterdam&${query}`);
        expect(response.status, query).toBe(400);
        expect(errorCode(response)).toBe('validation_failed');
        expect(response.body.error.fields, query).toEqual([expect.objectContaining({ in: 'querystring', path, message: expect.stringMatching(message) })]);
      }
      expect((await anonymous.get('/api/v1/vehicles?city=atlantis&near=1,1')).status).toBe(404);
    });
  });

  describe('POST /vehicles', () => {
    it('takes an optional position (both coordinates or neither)', async () => {
      const owner = await quickUser(app, t.db, 'amsterdam');
      const placed = await owner.client.post('/api/v1/vehicles', { city: 'amsterdam', type: 'bike', current_location: 'Dam 1', ...north(50) });
      expect(placed.status).toBe(201);
      expect(placed.body.vehicle).toMatchObject({ lat: north(50).lat, long: AMSTERDAM.long });
      const bare = await owner.client.post('/api/v1/vehicles', { city: 'amsterdam', type: 'bike', current_location: 'Dam 2' });
      expect(bare.body.vehicle).toMatchObject({ lat: null, long: null });
      const half = await owner.client.post('/api/v1/vehicles', { city: 'amsterdam', type: 'bike', current_location: 'Dam 3', lat: 52.3 });
      expect(half.status).toBe(400);
      expect(half.body.error.fields).toEqual([expect.objectContaining({ path: 'long', message: 'Give both lat and long, or neither.' })]);
    });
  });

  describe('rides', () => {
    it('say their currency: EUR in Europe, USD in the US, on the ride and its receipt', async () => {
      for (const [city, currency] of [['amsterdam', 'EUR'], ['boston', 'USD']] as const) {
        const rider = await quickUser(app, t.db, city);
        const vehicleId = await createVehicle(t.db, { city, type: 'bike' });
        const started = await rider.client.post('/api/v1/rides', { vehicle_city: city, vehicle_id: vehicleId });
        expect(started.body.ride.currency).toBe(currency);
        const ended = await rider.client.post(cityPath('rides', city, started.body.ride.id, '/end'), { end_address: 'Here' });
        expect(ended.status).toBe(200);
        expect(ended.body.ride).toMatchObject({ currency, receipt: { currency } });
        // A one-minute bike ride: €1.00 + €0.14 in Europe, $1.00 + $0.15 in the US.
        expect(ended.body.ride.revenue_cents).toBe(currency === 'EUR' ? 114 : 115);
        const listed = await rider.client.get('/api/v1/rides');
        expect(listed.body.items[0].currency).toBe(currency);
      }
    });
  });
});
