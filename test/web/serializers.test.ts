// In production responses are written by fast-json-stringify from the routes' schemas instead of
// being checked with zod: the bodies must be the same, field for field.
import type { FastifyInstance } from 'fastify';
import { issueToken, tokenSigningKey } from '../../src/movr/api-tokens.ts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TEST_SECRET_KEY } from '../support/config.ts';
import { buildTestApp } from '../support/app.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createRide, createUser, createVehicle, insertPromoCode } from '../support/factories.ts';

describeEachDatabase(
  'compiled response serialisers',
  (t) => {
    let checked: FastifyInstance;
    let compiled: FastifyInstance;
    let token: string;
    let rideId: string;

    beforeAll(async () => {
      checked = await buildTestApp(t.db);
      compiled = await buildTestApp(t.db, { env: { NODE_ENV: 'production', SECRET_KEY: TEST_SECRET_KEY } });
      const user = await createUser(t.db);
      token = (await issueToken(t.db, user, tokenSigningKey(TEST_SECRET_KEY))).token;
      await createVehicle(t.db, { city: 'new york', ownerId: user.id, brand: 'Fuji', type: 'bike' });
      await createVehicle(t.db, { city: 'new york', status: null, type: null, ext: null, location: null });
      await createVehicle(t.db, { city: 'new york', lat: 40.7138, long: -74.0071, type: 'scooter' });
      rideId = (await createRide(t.db, user)).id;
      await insertPromoCode(t.db, 'SERIAL10', { expirationTime: null });
    });

    afterAll(async () => {
      await checked?.close();
      await compiled?.close();
    });

    it.each([
      '/healthz',
      '/readyz',
      '/api/v1/cities',
      '/api/v1/vehicles?city=new%20york',
      '/api/v1/vehicles?city=new%20york&near=40.7128,-74.006',
      '/api/v1/vehicles?city=atlantis',
      '/api/v1/vehicles?city=new%20york&limit=0',
      '/api/v1/promo-codes',
      '/api/v1/me',
      '/api/v1/rides',
      '/api/v1/me/vehicles',
      '/api/v1/me/promo-codes',
      '/api/v1/openapi.json',
      '/api/v1/nowhere',
    ])('GET %s', async (url) => {
      const headers = { authorization: `Bearer ${token}` };
      const a = await checked.inject({ method: 'GET', url, headers });
      const b = await compiled.inject({ method: 'GET', url, headers });
      expect(b.statusCode).toBe(a.statusCode);
      const strip = (body: string) => {
        const value = JSON.parse(body) as { error?: { requestId?: string } };
        if (value.error?.requestId) value.error.requestId = 'x';
        return value;
      };
      expect(strip(b.body)).toEqual(strip(a.body));
    });

    it('the same for a ride and its receipt', async () => {
      const headers = { authorization: `Bearer ${token}` };
      const url = `/api/v1/rides/new%20york/${rideId}`;
      const a = await checked.inject({ method: 'GET', url, headers });
      const b = await compiled.inject({ method: 'GET', url, headers });
      expect(a.statusCode).toBe(200);
      expect(JSON.parse(b.body)).toEqual(JSON.parse(a.body));
    });
  },
  { kinds: ['pglite'] },
);
