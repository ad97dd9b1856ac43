// GET /vehicles (filters, keyset pages), GET/DELETE /vehicles/{city}/{id}, POST /vehicles,
// GET /me/vehicles.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../support/app.ts';
import { createVehicle } from '../support/factories.ts';
import { snapshot } from '../support/snapshot.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { ApiClient, type TestUser, cityPath, errorCode, quickUser, registeredUser } from './helpers.ts';

describeEachDatabase(
  'API vehicles',
  (t) => {
    let app: FastifyInstance;
    let anonymous: ApiClient;
    /** Vehicles in washington dc, which no other test of this file uses. */
    const dc: { id: string; type: string; status: string }[] = [];

    beforeAll(async () => {
      app = await buildTestApp(t.db);
      anonymous = new ApiClient(app);
      const types = ['bike', 'scooter', 'skateboard'];
      const statuses = ['available', 'available', 'in_use', 'lost', 'retired'];
      for (let i = 0; i < 25; i++) {
        const type = types[i % 3] ?? 'bike';
        const status = statuses[i % 5] ?? 'available';
        dc.push({ id: await createVehicle(t.db, { city: 'washington dc', type, status }), type, status });
      }
      dc.sort((a, b) => a.id.localeCompare(b.id));
    });
    afterAll(async () => {
      await app?.close();
    });

    describe('GET /vehicles', () => {
      it('a city’s vehicles in id order, lost and retired ones left out, with next_cursor', async () => {
        const response = await anonymous.get('/api/v1/vehicles?city=washington%20dc&limit=100');
        expect(response.status).toBe(200);
        const listed = dc.filter((v) => v.status !== 'retired' && v.status !== 'lost');
        expect(response.body.items.map((v: { id: string }) => v.id)).toEqual(listed.map((v) => v.id));
        expect(response.body.next_cursor).toBeNull();
        expect(response.body.items[0]).toEqual({
          id: listed[0]?.id,
          city: 'washington dc',
          type: listed[0]?.type,
          status: listed[0]?.status,
          current_location: '10 Park Avenue',
          color: 'red',
          brand: null,
          owner_id: null,
          owner_name: null,
          creation_time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
          lat: null,
          long: null,
        });
      });

      it('walks every page with the cursor: each vehicle once', async () => {
        const seen: string[] = [];
        let url = '/api/v1/vehicles?city=washington%20dc&limit=7';
        for (let pages = 0; pages < 10; pages++) {
          const response = await anonymous.get(url);
          expect(response.status).toBe(200);
          expect(response.body.items.length).toBeLessThanOrEqual(7);
          seen.push(...response.body.items.map((v: { id: string }) => v.id));
          if (response.body.next_cursor === null) break;
          url = `/api/v1/vehicles?city=washington%20dc&limit=7&cursor=${encodeURIComponent(response.body.next_cursor)}`;
        }
        expect(seen).toEqual(dc.filter((v) => v.status !== 'retired' && v.status !== 'lost').map((v) => v.id));
      });

      it('filters by status and type; status=lost or retired is refused (never listed to riders)', async () => {
        const bikes = await anonymous.get('/api/v1/vehicles?city=washington%20dc&type=bike&status=available&limit=100');
        expect(bikes.body.items.map((v: { id: string }) => v.id)).toEqual(
          dc.filter((v) => v.type === 'bike' && v.status === 'available').map((v) => v.id),
        );
        for (const status of ['retired', 'lost']) {
          const refused = await anonymous.get(`/api/v1/vehicles?city=washington%20dc&status=${status}&limit=100`);
          expect(refused.status).toBe(400);
        }
      });

      it('404 city_not_found for an unknown city; 400 for a missing city, bad limit, status, type or cursor', async () => {
        const unknown = await anonymous.get('/api/v1/vehicles?city=atlantis');
        expect(unknown.status).toBe(404);
        expect(errorCode(unknown)).toBe('city_not_found');
        for (const query of [
          '',
          '?city=boston&limit=0',
          '?city=boston&limit=101',
          '?city=boston&limit=abc',
          '?city=boston&limit=2.5',
          '?city=boston&status=broken',
          '?city=boston&type=car',
          '?city=boston&cursor=not-a-uuid',
          '?city=boston&city=paris',
        ]) {
          const response = await anonymous.get(`/api/v1/vehicles${query}`);
          expect(response.status, query).toBe(400);
          expect(errorCode(response), query).toBe('validation_failed');
          expect(response.body.error.fields[0].in, query).toBe('querystring');
        }
      });
    });

    describe('GET /vehicles/{city}/{id}', () => {
      it('200 {vehicle}, the city URL-encoded', async () => {
        const id = dc[0]?.id ?? '';
        const response = await anonymous.get(cityPath('vehicles', 'washington dc', id));
        expect(response.status).toBe(200);
        expect(response.body.vehicle).toMatchObject({ id, city: 'washington dc' });
      });

      it('404 for an unknown id, a vehicle of another city, an unknown city; 400 for a bad UUID', async () => {
        const id = dc[0]?.id ?? '';
        const unknownId = await anonymous.get(cityPath('vehicles', 'washington dc', '3f1e4c2a-9b7d-4e61-8a5f-0c2d9e8b7a61'));
        expect(unknownId.status).toBe(404);
        expect(errorCode(unknownId)).toBe('vehicle_not_found');
        const otherCity = await anonymous.get(cityPath('vehicles', 'boston', id));
        expect(errorCode(otherCity)).toBe('vehicle_not_found');
        const unknownCity = await anonymous.get(cityPath('vehicles', 'gotham', id));
        expect(unknownCity.status).toBe(404);
        expect(errorCode(unknownCity)).toBe('city_not_found');
        const badId = await anonymous.get(cityPath('vehicles', 'washington dc', 'not-a-uuid'));
        expect(badId.status).toBe(400);
        expect(badId.body.error.fields).toEqual([{ in: 'params', path: 'id', message: expect.any(String) }]);
      });
    });

    describe('POST /vehicles', () => {
      let owner: TestUser;
      beforeAll(async () => {
        owner = await registeredUser(app, { city: 'boston', name: 'Olga Owner' });
      });

      it('201 {vehicle}: available, owned by the caller, black unless a colour is given', async () => {
        const response = await owner.client.post('/api/v1/vehicles', { city: 'boston', type: 'bike', current_location: '3 Harbor Way' });
        expect(response.status).toBe(201);
        expect(response.body.vehicle).toMatchObject({
          city: 'boston',
          type: 'bike',
          status: 'available',
          current_location: '3 Harbor Way',
          color: 'black',
          brand: null,
          owner_id: owner.id,
          owner_name: 'Olga Owner',
        });
        const colored = await owner.client.post('/api/v1/vehicles', {
          city: 'boston',
          type: 'scooter',
          current_location: '4 Harbor Way',
          color: 'yellow',
          brand: 'Kona',
        });
        expect(colored.body.vehicle).toMatchObject({ color: 'yellow', brand: 'Kona' });
        const fetched = await anonymous.get(cityPath('vehicles', 'boston', colored.body.vehicle.id));
        expect(fetched.body.vehicle).toEqual(colored.body.vehicle);
      });

      it('400 for an empty location (named current_location), a bad type or colour, another city; nothing created', async () => {
        const before = await snapshot(t.db);
        const empty = await owner.client.post('/api/v1/vehicles', { city: 'boston', type: 'bike', current_location: '   ' });
        expect(empty.status).toBe(400);
        expect(empty.body.error.fields).toEqual([{ in: 'body', path: 'current_location', message: expect.any(String) }]);
        const away = await owner.client.post('/api/v1/vehicles', { city: 'paris', type: 'bike', current_location: 'Rue 1' });
        expect(away.status).toBe(400);
        expect(away.body.error.fields[0].path).toBe('city');
        for (const body of [
          { city: 'boston', type: 'car', current_location: 'x' },
          { city: 'boston', type: 'bike', current_location: 'x', color: 'plaid' },
          { city: 'boston', type: 'bike' },
          { city: 'boston', type: 'bike', current_location: 12 },
        ]) {
          const response = await owner.client.post('/api/v1/vehicles', body);
          expect(response.status, JSON.stringify(body)).toBe(400);
          expect(errorCode(response)).toBe('validation_failed');
        }
        expect(await snapshot(t.db)).toEqual(before);
      });

      it('401 without credentials', async () => {
        const response = await anonymous.post('/api/v1/vehicles', { city: 'boston', type: 'bike', current_location: 'x' });
        expect(response.status).toBe(401);
      });
    });

    describe('DELETE /vehicles/{city}/{id}', () => {
      it('204: the owner retires their vehicle; it stays visible as retired, out of the list', async () => {
        const owner = await quickUser(app, t.db, 'seattle', 'Sid');
        const id = await createVehicle(t.db, { city: 'seattle', ownerId: owner.id });
        const response = await owner.client.delete(cityPath('vehicles', 'seattle', id));
        expect(response.status).toBe(204);
        expect(response.raw.body).toBe('');
        expect((await anonymous.get(cityPath('vehicles', 'seattle', id))).body.vehicle.status).toBe('retired');
        const list = await anonymous.get('/api/v1/vehicles?city=seattle');
        expect(list.body.items.map((v: { id: string }) => v.id)).not.toContain(id);
        const again = await owner.client.delete(cityPath('vehicles', 'seattle', id));
        expect(again.status).toBe(409);
        expect(errorCode(again)).toBe('vehicle_retired');
      });

      it('403 not_vehicle_owner for another user’s vehicle, and nothing changes', async () => {
        const owner = await quickUser(app, t.db, 'seattle');
        const stranger = await quickUser(app, t.db, 'seattle');
        const id = await createVehicle(t.db, { city: 'seattle', ownerId: owner.id });
        const unowned = await createVehicle(t.db, { city: 'seattle' });
        const before = await snapshot(t.db);
        for (const target of [id, unowned]) {
          const response = await stranger.client.delete(cityPath('vehicles', 'seattle', target));
          expect(response.status).toBe(403);
          expect(errorCode(response)).toBe('not_vehicle_owner');
        }
        expect(await snapshot(t.db)).toEqual(before);
      });

      it('409 vehicle_in_use while someone rides it, and nothing changes', async () => {
        const owner = await quickUser(app, t.db, 'seattle');
        const rider = await quickUser(app, t.db, 'seattle');
        const id = await createVehicle(t.db, { city: 'seattle', ownerId: owner.id });
        expect((await rider.client.post('/api/v1/rides', { vehicle_city: 'seattle', vehicle_id: id })).status).toBe(201);
        const before = await snapshot(t.db);
        const response = await owner.client.delete(cityPath('vehicles', 'seattle', id));
        expect(response.status).toBe(409);
        expect(errorCode(response)).toBe('vehicle_in_use');
        expect(await snapshot(t.db)).toEqual(before);
      });

      it('404 for unknown vehicles and cities, 400 for a bad id, 401 without credentials', async () => {
        const owner = await quickUser(app, t.db, 'seattle');
        const id = await createVehicle(t.db, { city: 'seattle', ownerId: owner.id });
        expect(errorCode(await owner.client.delete(cityPath('vehicles', 'seattle', '3f1e4c2a-9b7d-4e61-8a5f-0c2d9e8b7a61')))).toBe(
          'vehicle_not_found',
        );
        expect(errorCode(await owner.client.delete(cityPath('vehicles', 'narnia', id)))).toBe('city_not_found');
        expect((await owner.client.delete(cityPath('vehicles', 'seattle', 'nope'))).status).toBe(400);
        expect((await anonymous.delete(cityPath('vehicles', 'seattle', id))).status).toBe(401);
        expect((await anonymous.get(cityPath('vehicles', 'seattle', id))).body.vehicle.status).toBe('available');
      });
    });

    describe('GET /me/vehicles', () => {
      it('the caller’s vehicles, retired ones included; others’ left out', async () => {
        const owner = await quickUser(app, t.db, 'los angeles');
        const other = await quickUser(app, t.db, 'los angeles');
        const first = await owner.client.post('/api/v1/vehicles', { city: 'los angeles', type: 'bike', current_location: 'A' });
        const second = await owner.client.post('/api/v1/vehicles', { city: 'los angeles', type: 'skateboard', current_location: 'B' });
        await other.client.post('/api/v1/vehicles', { city: 'los angeles', type: 'bike', current_location: 'C' });
        await owner.client.delete(cityPath('vehicles', 'los angeles', second.body.vehicle.id));
        const response = await owner.client.get('/api/v1/me/vehicles');
        expect(response.status).toBe(200);
        // In id order, a page at a time.
        const expected = [
          [first.body.vehicle.id, 'available'],
          [second.body.vehicle.id, 'retired'],
        ].sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1));
        expect(response.body.items.map((v: { id: string; status: string }) => [v.id, v.status])).toEqual(expected);
        expect(response.body.next_cursor).toBeNull();
        const page = await owner.client.get('/api/v1/me/vehicles?limit=1');
        expect(page.body.items.map((v: { id: string }) => v.id)).toEqual([expected[0]?.[0]]);
        const rest = await owner.client.get(`/api/v1/me/vehicles?limit=1&cursor=${encodeURIComponent(page.body.next_cursor)}`);
        expect(rest.body.items.map((v: { id: string }) => v.id)).toEqual([expected[1]?.[0]]);
        expect((await anonymous.get('/api/v1/me/vehicles')).status).toBe(401);
      });
    });
  },
  { open: { poolSize: 20 } },
);
