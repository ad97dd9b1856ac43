// GET, PATCH and DELETE /me; GET /cities.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_REGION_MAP } from '../../src/region-map.ts';
import { buildTestApp } from '../support/app.ts';
import { TEST_PASSWORD, VISA, createVehicle } from '../support/factories.ts';
import { countRows, snapshot } from '../support/snapshot.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { ApiClient, errorCode, registeredUser } from './helpers.ts';

describeEachDatabase(
  'API /me and /cities',
  (t) => {
    let app: FastifyInstance;
    beforeAll(async () => {
      app = await buildTestApp(t.db);
    });
    afterAll(async () => {
      await app?.close();
    });

    describe('GET /me', () => {
      it('200 {user}: the caller, card masked', async () => {
        const user = await registeredUser(app, { city: 'seattle', name: 'Sam' });
        await user.client.patch('/api/v1/me', { card_number: VISA });
        const response = await user.client.get('/api/v1/me');
        expect(response.status).toBe(200);
        expect(response.body).toEqual({
          user: {
            id: user.id,
            city: 'seattle',
            username: user.username,
            name: 'Sam',
            address: '1 Main Street',
            masked_card: '**** **** **** 1111',
          },
        });
        expect(response.headers['cache-control']).toBe('no-store');
      });

      it('401 without credentials', async () => {
        const response = await new ApiClient(app).get('/api/v1/me');
        expect(response.status).toBe(401);
        expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
      });
    });

    describe('PATCH /me', () => {
      it('changes name, address and card; fields left out stay; unknown fields (city, username) are dropped', async () => {
        const user = await registeredUser(app, { city: 'rome', name: 'Romy' });
        const response = await user.client.patch('/api/v1/me', {
          name: '  Romy Renamed ',
          card_number: '5555-5555-5555-4444',
          city: 'paris',
          username: 'hijack',
        });
        expect(response.status).toBe(200);
        expect(response.body.user).toEqual({
          id: user.id,
          city: 'rome',
          username: user.username,
          name: 'Romy Renamed',
          address: '1 Main Street',
          masked_card: '**** **** **** 4444',
        });
        const removed = await user.client.patch('/api/v1/me', { address: null, card_number: '' });
        expect(removed.status).toBe(200);
        expect(removed.body.user).toMatchObject({ name: 'Romy Renamed', address: null, masked_card: null });
        expect(await countRows(t.db, `SELECT count(*) AS n FROM users WHERE credit_card LIKE '%5555%'`)).toBe(0);
      });

      it('400 validation_failed with API field names, and nothing changes', async () => {
        const user = await registeredUser(app);
        const before = await snapshot(t.db);
        const response = await user.client.patch('/api/v1/me', { name: '', card_number: '1234' });
        expect(response.status).toBe(400);
        expect(errorCode(response)).toBe('validation_failed');
        expect(response.body.error.fields.map((f: { path: string }) => f.path).sort()).toEqual(['card_number', 'name']);
        const wrongType = await user.client.patch('/api/v1/me', { name: 7 });
        expect(wrongType.status).toBe(400);
        expect(wrongType.body.error.fields).toEqual([{ in: 'body', path: 'name', message: expect.any(String) }]);
        expect(await snapshot(t.db)).toEqual(before);
      });

      it('401 without credentials, and nothing changes', async () => {
        const before = await snapshot(t.db);
        expect((await new ApiClient(app).patch('/api/v1/me', { name: 'Nobody' })).status).toBe(401);
        expect(await snapshot(t.db)).toEqual(before);
      });
    });

    describe('DELETE /me', () => {
      it('204: personal details and credentials erased, vehicles retired, every token revoked', async () => {
        const user = await registeredUser(app, { city: 'amsterdam' });
        const second = await new ApiClient(app).post('/api/v1/auth/login', { username: user.username, password: TEST_PASSWORD });
        const vehicleId = await createVehicle(t.db, { city: 'amsterdam', ownerId: user.id });
        const response = await user.client.delete('/api/v1/me');
        expect(response.status).toBe(204);
        expect(response.raw.body).toBe('');
        expect((await user.client.get('/api/v1/me')).status).toBe(401);
        expect((await new ApiClient(app, { token: second.body.token }).get('/api/v1/me')).status).toBe(401);
        const login = await new ApiClient(app).post('/api/v1/auth/login', { username: user.username, password: TEST_PASSWORD });
        expect(login.status).toBe(401);
        const rows = await t.db.execute('SELECT name, address, credit_card FROM users WHERE id = $1', [user.id]);
        expect(rows).toEqual([{ name: null, address: null, credit_card: null }]);
        const vehicle = await new ApiClient(app).get(`/api/v1/vehicles/amsterdam/${vehicleId}`);
        expect(vehicle.body.vehicle.status).toBe('retired');
      });

      it('409 ride_open while the user rides, and nothing changes', async () => {
        const user = await registeredUser(app);
        const vehicleId = await createVehicle(t.db);
        expect((await user.client.post('/api/v1/rides', { vehicle_city: 'new york', vehicle_id: vehicleId })).status).toBe(201);
        const before = await snapshot(t.db);
        const response = await user.client.delete('/api/v1/me');
        expect(response.status).toBe(409);
        expect(errorCode(response)).toBe('ride_open');
        expect(await snapshot(t.db)).toEqual(before);
        expect((await user.client.get('/api/v1/me')).status).toBe(200);
      });

      it('401 without credentials', async () => {
        expect((await new ApiClient(app).delete('/api/v1/me')).status).toBe(401);
      });
    });

    describe('GET /cities', () => {
      it('200: the nine cities with their regions', async () => {
        const response = await new ApiClient(app).get('/api/v1/cities');
        expect(response.status).toBe(200);
        expect(response.body.instance_region).toBeNull();
        expect(response.body.items).toEqual(DEFAULT_REGION_MAP.cities.map((c) => ({ name: c.name, region: c.region, lat: c.lat, long: c.long })));
      });

      it('the instance region’s cities come first when MOVR_REGION is set', async () => {
        const european = await buildTestApp(t.db, { env: { MOVR_REGION: 'europe-west1' } });
        try {
          const response = await new ApiClient(european).get('/api/v1/cities');
          expect(response.body.instance_region).toBe('europe-west1');
          expect(response.body.items.map((c: { name: string }) => c.name)).toEqual([
            'amsterdam',
            'paris',
            'rome',
            'new york',
            'boston',
            'washington dc',
            'san francisco',
            'seattle',
            'los angeles',
          ]);
        } finally {
          await european.close();
        }
      });
    });
  },
  { open: { poolSize: 20 } },
);
