// Safe retries with Idempotency-Key on POST /rides and POST /rides/{city}/{id}/end.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../support/app.ts';
import { createVehicle } from '../support/factories.ts';
import { countRows, snapshot } from '../support/snapshot.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { cityPath, errorCode, quickUser } from './helpers.ts';

describeEachDatabase(
  'API idempotent retries',
  (t) => {
    let app: FastifyInstance;
    beforeAll(async () => {
      app = await buildTestApp(t.db);
    });
    afterAll(async () => {
      await app?.close();
    });

    const rideCount = (riderId: string) => countRows(t.db, 'SELECT count(*) AS n FROM rides WHERE rider_id = $1', [riderId]);

    describe('POST /rides', () => {
      it('the same key and body twice: the same response, one ride; the retry says it is a replay', async () => {
        const rider = await quickUser(app, t.db);
        const vehicleId = await createVehicle(t.db);
        const body = { vehicle_city: 'new york', vehicle_id: vehicleId };
        const headers = { 'idempotency-key': 'start-1' };
        const first = await rider.client.post('/api/v1/rides', body, { headers });
        expect(first.status).toBe(201);
        expect(first.headers['idempotent-replayed']).toBeUndefined();
        const second = await rider.client.post('/api/v1/rides', body, { headers });
        expect(second.status).toBe(201);
        expect(second.body).toEqual(first.body);
        expect(second.raw.body).toBe(first.raw.body);
        expect(second.headers['idempotent-replayed']).toBe('true');
        expect(await rideCount(rider.id)).toBe(1);
        // Without the key, the same request is a new request: refused, the vehicle is taken (by this rider).
        expect(errorCode(await rider.client.post('/api/v1/rides', body))).toBe('vehicle_unavailable');
      });

      it('unknown fields do not make a different request; a different body with the same key is 409 idempotency_key_reused', async () => {
        const rider = await quickUser(app, t.db);
        const vehicleId = await createVehicle(t.db);
        const other = await createVehicle(t.db);
        const headers = { 'idempotency-key': 'start-2' };
        const first = await rider.client.post('/api/v1/rides', { vehicle_city: 'new york', vehicle_id: vehicleId }, { headers });
        expect(first.status).toBe(201);
        const extra = await rider.client.post('/api/v1/rides', { vehicle_id: vehicleId, vehicle_city: 'new york', note: 'hi' }, { headers });
        expect(extra.status).toBe(201);
        expect(extra.body).toEqual(first.body);
        const before = await snapshot(t.db);
        const reused = await rider.client.post('/api/v1/rides', { vehicle_city: 'new york', vehicle_id: other }, { headers });
        expect(reused.status).toBe(409);
        expect(errorCode(reused)).toBe('idempotency_key_reused');
        // The same key on another operation is another request too.
        const onEnd = await rider.client.post(cityPath('rides', 'new york', first.body.ride.id, '/end'), { end_address: 'x' }, { headers });
        expect(onEnd.status).toBe(409);
        expect(errorCode(onEnd)).toBe('idempotency_key_reused');
        expect(await snapshot(t.db)).toEqual(before);
      });

      it('concurrent requests with one key: one ride, and every request gets the same response', async () => {
        const rider = await quickUser(app, t.db, 'paris');
        const vehicleId = await createVehicle(t.db, { city: 'paris' });
        const body = { vehicle_city: 'paris', vehicle_id: vehicleId };
        const responses = await Promise.all(
          Array.from({ length: 6 }, () => rider.client.post('/api/v1/rides', body, { headers: { 'idempotency-key': 'race-1' } })),
        );
        expect(responses.map((r) => r.status)).toEqual([201, 201, 201, 201, 201, 201]);
        for (const response of responses) expect(response.body).toEqual(responses[0]?.body);
        expect(responses.filter((r) => r.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
        expect(await rideCount(rider.id)).toBe(1);
        expect(await countRows(t.db, `SELECT count(*) AS n FROM idempotency_keys WHERE user_id = $1`, [rider.id])).toBe(1);
      });

      it('errors are not stored: a request refused with a key can be retried with that key', async () => {
        const rider = await quickUser(app, t.db);
        const holder = await quickUser(app, t.db);
        const vehicleId = await createVehicle(t.db);
        const held = await holder.client.post('/api/v1/rides', { vehicle_city: 'new york', vehicle_id: vehicleId });
        const body = { vehicle_city: 'new york', vehicle_id: vehicleId };
        const headers = { 'idempotency-key': 'retry-after-409' };
        const refused = await rider.client.post('/api/v1/rides', body, { headers });
        expect(refused.status).toBe(409);
        expect(errorCode(refused)).toBe('vehicle_unavailable');
        await holder.client.post(cityPath('rides', 'new york', held.body.ride.id, '/end'), { end_address: 'Back' });
        const retried = await rider.client.post('/api/v1/rides', body, { headers });
        expect(retried.status).toBe(201);
        expect(retried.headers['idempotent-replayed']).toBeUndefined();
      });

      it('keys belong to a user: two riders may use the same key', async () => {
        const [a, b] = await Promise.all([quickUser(app, t.db), quickUser(app, t.db)]);
        const headers = { 'idempotency-key': 'shared-key' };
        const first = await a!.client.post('/api/v1/rides', { vehicle_city: 'new york', vehicle_id: await createVehicle(t.db) }, { headers });
        const second = await b!.client.post('/api/v1/rides', { vehicle_city: 'new york', vehicle_id: await createVehicle(t.db) }, { headers });
        expect([first.status, second.status]).toEqual([201, 201]);
        expect(first.body.ride.id).not.toBe(second.body.ride.id);
      });

      it('an expired key acts again', async () => {
        const rider = await quickUser(app, t.db);
        const vehicleId = await createVehicle(t.db);
        const body = { vehicle_city: 'new york', vehicle_id: vehicleId };
        const headers = { 'idempotency-key': 'old-key' };
        const first = await rider.client.post('/api/v1/rides', body, { headers });
        await rider.client.post(cityPath('rides', 'new york', first.body.ride.id, '/end'), { end_address: 'A' });
        await t.db.execute(`UPDATE idempotency_keys SET expires_at = '2000-01-01' WHERE user_id = $1`, [rider.id]);
        const again = await rider.client.post('/api/v1/rides', body, { headers });
        expect(again.status).toBe(201);
        expect(again.body.ride.id).not.toBe(first.body.ride.id);
        expect(await rideCount(rider.id)).toBe(2);
      });

      it('400 for a malformed key, and nothing changes', async () => {
        const rider = await quickUser(app, t.db);
        const vehicleId = await createVehicle(t.db);
        const before = await snapshot(t.db);
        for (const key of ['', 'has space', 'x'.repeat(256), 'caf\u00e9']) {
          const response = await rider.client.post('/api/v1/rides', { vehicle_city: 'new york', vehicle_id: vehicleId }, {
            headers: { 'idempotency-key': key },
          });
          expect(response.status, JSON.stringify(key)).toBe(400);
          expect(errorCode(response)).toBe('validation_failed');
          expect(response.body.error.fields[0].in).toBe('headers');
        }
        expect(await snapshot(t.db)).toEqual(before);
      });
    });

    describe('POST /rides/{city}/{id}/end', () => {
      it('the same key twice: the same receipt, charged once', async () => {
        const rider = await quickUser(app, t.db);
        const vehicleId = await createVehicle(t.db);
        const started = await rider.client.post('/api/v1/rides', { vehicle_city: 'new york', vehicle_id: vehicleId });
        const url = cityPath('rides', 'new york', started.body.ride.id, '/end');
        const headers = { 'idempotency-key': 'end-1' };
        const first = await rider.client.post(url, { end_address: 'Pier 1' }, { headers });
        expect(first.status).toBe(200);
        const second = await rider.client.post(url, { end_address: 'Pier 1' }, { headers });
        expect(second.status).toBe(200);
        expect(second.body).toEqual(first.body);
        expect(second.headers['idempotent-replayed']).toBe('true');
        expect(await countRows(t.db, 'SELECT count(*) AS n FROM ride_receipts WHERE ride_id = $1', [started.body.ride.id])).toBe(1);
        const different = await rider.client.post(url, { end_address: 'Pier 2' }, { headers });
        expect(errorCode(different)).toBe('idempotency_key_reused');
        // Without a key, ending it again is a conflict.
        expect(errorCode(await rider.client.post(url, { end_address: 'Pier 1' }))).toBe('ride_already_ended');
      });

      it('concurrent ends with one key: ended once, every request gets the same response', async () => {
        const rider = await quickUser(app, t.db, 'rome');
        const vehicleId = await createVehicle(t.db, { city: 'rome' });
        const started = await rider.client.post('/api/v1/rides', { vehicle_city: 'rome', vehicle_id: vehicleId });
        const url = cityPath('rides', 'rome', started.body.ride.id, '/end');
        const responses = await Promise.all(
          Array.from({ length: 5 }, () => rider.client.post(url, { end_address: 'Colosseum' }, { headers: { 'idempotency-key': 'end-race' } })),
        );
        expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
        for (const response of responses) expect(response.body).toEqual(responses[0]?.body);
        expect(await countRows(t.db, 'SELECT count(*) AS n FROM ride_receipts WHERE ride_id = $1', [started.body.ride.id])).toBe(1);
      });
    });
  },
  { open: { poolSize: 20 } },
);
