// POST /rides, GET /rides, GET /rides/{city}/{id}, POST/GET /rides/{city}/{id}/locations,
// POST /rides/{city}/{id}/end; other riders' rides; concurrent starts on one vehicle.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../support/app.ts';
import { createVehicle, insertPromoCode } from '../support/factories.ts';
import { countRows, snapshot } from '../support/snapshot.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { ApiClient, cityPath, errorCode, quickUser } from './helpers.ts';

const PRICE_LIST = { scooter: { unlockCents: 150, perMinuteCents: 45 }, bike: { unlockCents: 100, perMinuteCents: 20 } };

describeEachDatabase(
  'API rides',
  (t) => {
    let app: FastifyInstance;
    beforeAll(async () => {
      app = await buildTestApp(t.db, { env: { MOVR_PRICE_LIST: JSON.stringify(PRICE_LIST) } });
    });
    afterAll(async () => {
      await app?.close();
    });

    /** Moves a ride's start back in time (timestamps are stored as UTC without a zone). */
    async function startedAgo(rideId: string, milliseconds: number): Promise<void> {
      const utc = new Date(Date.now() - milliseconds).toISOString().replace('Z', '');
      await t.db.execute('UPDATE rides SET start_time = $2::timestamp WHERE id = $1', [rideId, utc]);
    }

    async function startedRide(city = 'new york', type = 'scooter') {
      const rider = await quickUser(app, t.db, city);
      const vehicleId = await createVehicle(t.db, { city, type, location: '1 Start Street' });
      const response = await rider.client.post('/api/v1/rides', { vehicle_city: city, vehicle_id: vehicleId });
      expect(response.status).toBe(201);
      return { rider, vehicleId, ride: response.body.ride as { id: string; city: string } };
    }

    describe('POST /rides', () => {
      it('201 {ride}: open, from the vehicle’s location; the vehicle is in use', async () => {
        const rider = await quickUser(app, t.db);
        const vehicleId = await createVehicle(t.db, { location: '9 Broadway' });
        const response = await rider.client.post('/api/v1/rides', { vehicle_city: 'new york', vehicle_id: vehicleId });
        expect(response.status).toBe(201);
        expect(response.body.ride).toEqual({
          id: expect.any(String),
          city: 'new york',
          status: 'open',
          vehicle_city: 'new york',
          vehicle_id: vehicleId,
          vehicle_type: 'scooter',
          rider_id: rider.id,
          start_address: '9 Broadway',
          end_address: null,
          start_time: expect.any(String),
          end_time: null,
          revenue: null,
          revenue_cents: null,
          currency: 'USD',
          receipt: null,
        });
        expect(Math.abs(Date.parse(response.body.ride.start_time) - Date.now())).toBeLessThan(60_000);
        const vehicle = await new ApiClient(app).get(cityPath('vehicles', 'new york', vehicleId));
        expect(vehicle.body.vehicle.status).toBe('in_use');
      });

      it('409 vehicle_unavailable for a vehicle in use or lost; 409 ride_already_open; nothing changes', async () => {
        const { rider, vehicleId } = await startedRide();
        const other = await quickUser(app, t.db);
        const lost = await createVehicle(t.db, { status: 'lost' });
        const free = await createVehicle(t.db);
        const before = await snapshot(t.db);
        for (const id of [vehicleId, lost]) {
          const response = await other.client.post('/api/v1/rides', { vehicle_city: 'new york', vehicle_id: id });
          expect(response.status).toBe(409);
          expect(errorCode(response)).toBe('vehicle_unavailable');
        }
        const second = await rider.client.post('/api/v1/rides', { vehicle_city: 'new york', vehicle_id: free });
        expect(second.status).toBe(409);
        expect(errorCode(second)).toBe('ride_already_open');
        expect(await snapshot(t.db)).toEqual(before);
      });

      it('404 vehicle_not_found for unknown vehicles and cities; 409 outside_home_city; 400 for bad input', async () => {
        const rider = await quickUser(app, t.db);
        const parisVehicle = await createVehicle(t.db, { city: 'paris' });
        const before = await snapshot(t.db);
        const unknown = await rider.client.post('/api/v1/rides', { vehicle_city: 'new york', vehicle_id: '3f1e4c2a-9b7d-4e61-8a5f-0c2d9e8b7a61' });
        expect(unknown.status).toBe(404);
        expect(errorCode(unknown)).toBe('vehicle_not_found');
        const nowhere = await rider.client.post('/api/v1/rides', { vehicle_city: 'atlantis', vehicle_id: parisVehicle });
        expect(nowhere.status).toBe(404);
        const away = await rider.client.post('/api/v1/rides', { vehicle_city: 'paris', vehicle_id: parisVehicle });
        expect(away.status).toBe(409);
        expect(errorCode(away)).toBe('outside_home_city');
        for (const body of [{}, { vehicle_city: 'new york', vehicle_id: 'x' }, { vehicle_city: 1, vehicle_id: parisVehicle }, [], 'text']) {
          const response = await rider.client.post('/api/v1/rides', body);
          expect(response.status, JSON.stringify(body)).toBe(400);
        }
        expect(await snapshot(t.db)).toEqual(before);
      });

      it('401 without credentials, and nothing changes', async () => {
        const vehicleId = await createVehicle(t.db);
        const before = await snapshot(t.db);
        const response = await new ApiClient(app).post('/api/v1/rides', { vehicle_city: 'new york', vehicle_id: vehicleId });
        expect(response.status).toBe(401);
        expect(await snapshot(t.db)).toEqual(before);
      });

      it('concurrent starts on one vehicle by 8 riders: exactly one 201, the rest 409 vehicle_unavailable', async () => {
        const riders = await Promise.all(Array.from({ length: 8 }, () => quickUser(app, t.db, 'boston')));
        const vehicleId = await createVehicle(t.db, { city: 'boston' });
        const responses = await Promise.all(
          riders.map((rider) => rider.client.post('/api/v1/rides', { vehicle_city: 'boston', vehicle_id: vehicleId })),
        );
        const statuses = responses.map((r) => r.status).sort();
        expect(statuses).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
        for (const response of responses.filter((r) => r.status === 409)) expect(errorCode(response)).toBe('vehicle_unavailable');
        expect(await countRows(t.db, 'SELECT count(*) AS n FROM rides WHERE vehicle_id = $1', [vehicleId])).toBe(1);
        const winner = responses.find((r) => r.status === 201);
        expect(await countRows(t.db, 'SELECT count(*) AS n FROM rides WHERE vehicle_id = $1 AND rider_id = $2', [vehicleId, winner?.body.ride.rider_id])).toBe(1);
      });
    });

    describe('GET /rides and GET /rides/{city}/{id}', () => {
      it('the caller’s rides, newest first, a page at a time; nobody else’s', async () => {
        const rider = await quickUser(app, t.db, 'rome');
        const other = await quickUser(app, t.db, 'rome');
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) {
          const vehicleId = await createVehicle(t.db, { city: 'rome' });
          const started = await rider.client.post('/api/v1/rides', { vehicle_city: 'rome', vehicle_id: vehicleId });
          ids.push(started.body.ride.id);
          // Distinct start times, a minute apart, oldest first.
          await startedAgo(started.body.ride.id, (10 - i) * 60_000);
          const ended = await rider.client.post(cityPath('rides', 'rome', started.body.ride.id, '/end'), { end_address: `Via ${i}` });
          expect(ended.status).toBe(200);
        }
        const vehicleId = await createVehicle(t.db, { city: 'rome' });
        await other.client.post('/api/v1/rides', { vehicle_city: 'rome', vehicle_id: vehicleId });

        const seen: string[] = [];
        let url = '/api/v1/rides?limit=2';
        for (let pages = 0; pages < 5; pages++) {
          const response = await rider.client.get(url);
          expect(response.status).toBe(200);
          seen.push(...response.body.items.map((r: { id: string }) => r.id));
          if (!response.body.next_cursor) break;
          url = `/api/v1/rides?limit=2&cursor=${encodeURIComponent(response.body.next_cursor)}`;
        }
        expect(seen).toEqual([...ids].reverse());
        const bad = await rider.client.get('/api/v1/rides?cursor=garbage');
        expect(bad.status).toBe(400);
        expect(bad.body.error.fields).toEqual([{ in: 'querystring', path: 'cursor', message: expect.any(String) }]);
        expect((await new ApiClient(app).get('/api/v1/rides')).status).toBe(401);
      });

      it('one ride: 200 for its rider; 404 ride_not_found for anyone else, unknown ids and cities; 400 for a bad id', async () => {
        const { rider, ride } = await startedRide();
        const response = await rider.client.get(cityPath('rides', 'new york', ride.id));
        expect(response.status).toBe(200);
        expect(response.body.ride).toMatchObject({ id: ride.id, status: 'open' });
        const stranger = await quickUser(app, t.db);
        const hidden = await stranger.client.get(cityPath('rides', 'new york', ride.id));
        expect(hidden.status).toBe(404);
        expect(errorCode(hidden)).toBe('ride_not_found');
        expect(errorCode(await rider.client.get(cityPath('rides', 'new york', '3f1e4c2a-9b7d-4e61-8a5f-0c2d9e8b7a61')))).toBe('ride_not_found');
        expect(errorCode(await rider.client.get(cityPath('rides', 'boston', ride.id)))).toBe('ride_not_found');
        expect(errorCode(await rider.client.get(cityPath('rides', 'mordor', ride.id)))).toBe('city_not_found');
        expect((await rider.client.get(cityPath('rides', 'new york', '1234'))).status).toBe(400);
        expect((await new ApiClient(app).get(cityPath('rides', 'new york', ride.id))).status).toBe(401);
      });
    });

    describe('locations', () => {
      it('POST 201 {location} on an open ride; GET lists them oldest first', async () => {
        const { rider, ride } = await startedRide();
        const url = cityPath('rides', 'new york', ride.id, '/locations');
        const first = await rider.client.post(url, { lat: 40.71, long: -74.0 });
        expect(first.status).toBe(201);
        expect(first.body.location).toEqual({ timestamp: expect.any(String), lat: 40.71, long: -74 });
        await new Promise((resolve) => setTimeout(resolve, 5));
        await rider.client.post(url, { lat: 40.72, long: -74.01 });
        const list = await rider.client.get(url);
        expect(list.status).toBe(200);
        expect(list.body.items.map((p: { lat: number }) => p.lat)).toEqual([40.71, 40.72]);
      });

      it('400 for out-of-range or non-numeric coordinates; 404 for others’ rides; 409 once ended; nothing changes', async () => {
        const { rider, ride } = await startedRide();
        const url = cityPath('rides', 'new york', ride.id, '/locations');
        const stranger = await quickUser(app, t.db);
        const before = await snapshot(t.db);
        for (const body of [{ lat: 91, long: 0 }, { lat: 0, long: -181 }, { lat: '40', long: 1 }, { lat: 1 }]) {
          const response = await rider.client.post(url, body);
          expect(response.status, JSON.stringify(body)).toBe(400);
          expect(errorCode(response)).toBe('validation_failed');
        }
        const hidden = await stranger.client.post(url, { lat: 1, long: 1 });
        expect(hidden.status).toBe(404);
        expect(errorCode(hidden)).toBe('ride_not_found');
        expect((await stranger.client.get(url)).status).toBe(404);
        expect(await snapshot(t.db)).toEqual(before);
        await rider.client.post(cityPath('rides', 'new york', ride.id, '/end'), { end_address: 'Done' });
        const ended = await rider.client.post(url, { lat: 1, long: 1 });
        expect(ended.status).toBe(409);
        expect(errorCode(ended)).toBe('ride_already_ended');
      });
    });

    describe('POST /rides/{city}/{id}/end', () => {
      it('200 {ride} with revenue from the configured price list; the vehicle is available where the ride ended', async () => {
        const { rider, ride, vehicleId } = await startedRide('new york', 'scooter');
        await startedAgo(ride.id, 9.5 * 60_000);
        const response = await rider.client.post(cityPath('rides', 'new york', ride.id, '/end'), { end_address: ' 5 End Road ' });
        expect(response.status).toBe(200);
        const ended = response.body.ride;
        expect(ended).toMatchObject({ id: ride.id, status: 'ended', end_address: '5 End Road' });
        const minutes = ended.receipt.minutes;
        expect(minutes).toBeGreaterThanOrEqual(10);
        expect(minutes).toBeLessThanOrEqual(11);
        const cents = 150 + 45 * minutes;
        expect(ended.receipt).toEqual({
          minutes,
          unlock_cents: 150,
          per_minute_cents: 45,
          fare_cents: cents,
          discount_percent: 0,
          discount_cents: 0,
          total_cents: cents,
          promo_code: null,
          vehicle_type: 'scooter',
          currency: 'USD',
        });
        expect(ended.revenue_cents).toBe(cents);
        expect(ended.revenue).toBe(`${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`);
        const rows = await t.db.execute('SELECT revenue::text AS revenue FROM rides WHERE id = $1', [ride.id]);
        expect(rows[0]?.revenue).toBe(ended.revenue);
        const vehicle = await new ApiClient(app).get(cityPath('vehicles', 'new york', vehicleId));
        expect(vehicle.body.vehicle).toMatchObject({ status: 'available', current_location: '5 End Road' });
      });

      it('applies the rider’s best promo code', async () => {
        await insertPromoCode(t.db, 'RIDES-TWENTY', { percent: '20%' });
        const { rider, ride } = await startedRide('new york', 'bike');
        expect((await rider.client.post('/api/v1/me/promo-codes', { code: 'RIDES-TWENTY' })).status).toBe(201);
        const response = await rider.client.post(cityPath('rides', 'new york', ride.id, '/end'), { end_address: 'Here' });
        expect(response.body.ride.receipt).toMatchObject({ minutes: 1, fare_cents: 120, discount_percent: 20, discount_cents: 24, total_cents: 96, promo_code: 'RIDES-TWENTY' });
        expect(response.body.ride.revenue).toBe('0.96');
      });

      it('409 ride_already_ended the second time; 404 for another rider’s ride; 400 for an empty address; nothing changes', async () => {
        const { rider, ride } = await startedRide();
        const url = cityPath('rides', 'new york', ride.id, '/end');
        const stranger = await quickUser(app, t.db);
        let before = await snapshot(t.db);
        const hidden = await stranger.client.post(url, { end_address: 'Stolen' });
        expect(hidden.status).toBe(404);
        expect(errorCode(hidden)).toBe('ride_not_found');
        const empty = await rider.client.post(url, { end_address: '  ' });
        expect(empty.status).toBe(400);
        expect(empty.body.error.fields).toEqual([{ in: 'body', path: 'end_address', message: expect.any(String) }]);
        expect((await rider.client.post(url, {})).status).toBe(400);
        expect(await snapshot(t.db)).toEqual(before);
        expect((await rider.client.post(url, { end_address: 'Home' })).status).toBe(200);
        before = await snapshot(t.db);
        const again = await rider.client.post(url, { end_address: 'Home again' });
        expect(again.status).toBe(409);
        expect(errorCode(again)).toBe('ride_already_ended');
        expect(await snapshot(t.db)).toEqual(before);
        expect((await new ApiClient(app).post(url, { end_address: 'x' })).status).toBe(401);
      });
    });
  },
  { open: { poolSize: 20 } },
);
