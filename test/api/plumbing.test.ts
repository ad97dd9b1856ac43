// What every API route shares: JSON bodies only (415), bad JSON (400), body size (413), the
// error shape, 404 outside the routes, the per-IP rate limit (429), no caching, and that the
// web site around the API behaves as before.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_API_RATE_LIMIT_PER_MINUTE } from '../../src/config.ts';
import { buildTestApp } from '../support/app.ts';
import { createVehicle } from '../support/factories.ts';
import { snapshot } from '../support/snapshot.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { ApiClient, errorCode, quickUser } from './helpers.ts';

describeEachDatabase(
  'API plumbing',
  (t) => {
    let app: FastifyInstance;
    beforeAll(async () => {
      app = await buildTestApp(t.db);
    });
    afterAll(async () => {
      await app?.close();
    });

    describe('request bodies', () => {
      it('415 unsupported_media_type for any body that is not application/json, before anything else happens', async () => {
        const rider = await quickUser(app, t.db);
        const vehicleId = await createVehicle(t.db);
        const before = await snapshot(t.db);
        const body = JSON.stringify({ vehicle_city: 'new york', vehicle_id: vehicleId });
        for (const contentType of [
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=----x',
          'application/xml',
          'application/json-patch+json',
          'text/json',
          'application/jsonx',
        ]) {
          const response = await rider.client.request('POST', '/api/v1/rides', { headers: { 'content-type': contentType }, raw: body });
          expect(response.status, contentType).toBe(415);
          expect(errorCode(response), contentType).toBe('unsupported_media_type');
        }
        // A body without a Content-Type.
        const bare = await rider.client.request('POST', '/api/v1/rides', { raw: body });
        expect(bare.status).toBe(415);
        expect(await snapshot(t.db)).toEqual(before);
        // Parameters and case do not matter.
        const ok = await rider.client.request('POST', '/api/v1/rides', {
          headers: { 'content-type': 'Application/JSON; charset=UTF-8' },
          raw: body,
        });
        expect(ok.status).toBe(201);
      });

      it('GET requests may carry a stray Content-Type without a body', async () => {
        const response = await new ApiClient(app).get('/api/v1/cities', { headers: { 'content-type': 'text/html' } });
        expect(response.status).toBe(200);
      });

      it('400 invalid_json for malformed JSON and prototype poisoning', async () => {
        const rider = await quickUser(app, t.db);
        for (const raw of ['{', '{"vehicle_city": }', "{'a': 1}", 'nul', '{"__proto__": {"polluted": true}}', '{"a": {"constructor": {"prototype": {"x": 1}}}}']) {
          const response = await rider.client.request('POST', '/api/v1/rides', { headers: { 'content-type': 'application/json' }, raw });
          expect(response.status, raw).toBe(400);
          expect(errorCode(response), raw).toBe('invalid_json');
        }
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      });

      it('400 validation_failed for JSON that is not an object, or an empty body where one is needed', async () => {
        const rider = await quickUser(app, t.db);
        for (const raw of ['[]', '"text"', '42', 'null', '', '   ']) {
          const response = await rider.client.request('POST', '/api/v1/rides', { headers: { 'content-type': 'application/json' }, raw });
          expect(response.status, raw).toBe(400);
          expect(errorCode(response), raw).toBe('validation_failed');
        }
      });

      it('413 payload_too_large over 100 kB, and nothing changes', async () => {
        const rider = await quickUser(app, t.db);
        const before = await snapshot(t.db);
        const response = await rider.client.patch('/api/v1/me', { name: 'x'.repeat(120 * 1024) });
        expect(response.status).toBe(413);
        expect(errorCode(response)).toBe('payload_too_large');
        expect(await snapshot(t.db)).toEqual(before);
      });
    });

    describe('errors', () => {
      it('404 not_found as JSON for unknown paths and methods under /api', async () => {
        const client = new ApiClient(app);
        for (const [method, url] of [
          ['GET', '/api/v1/nothing'],
          ['GET', '/api/v2/cities'],
          ['PUT', '/api/v1/me'],
          ['POST', '/api/v1/cities'],
          ['GET', '/api/v1/vehicles/new%20york'],
        ] as const) {
          const response = await client.request(method, url);
          expect(response.status, url).toBe(404);
          expect(response.headers['content-type']).toMatch(/^application\/json/);
          expect(errorCode(response)).toBe('not_found');
        }
      });

      it('every response carries x-request-id and cache-control: no-store', async () => {
        const client = new ApiClient(app);
        for (const url of ['/api/v1/cities', '/api/v1/me', '/api/v1/vehicles?city=x']) {
          const response = await client.get(url);
          expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
          expect(response.headers['cache-control']).toBe('no-store');
        }
      });

      it('HEAD on a secured route needs credentials too', async () => {
        const response = await app.inject({ method: 'HEAD', url: '/api/v1/me' });
        expect(response.statusCode).toBe(401);
        const rider = await quickUser(app, t.db);
        const ok = await app.inject({ method: 'HEAD', url: '/api/v1/me', headers: { authorization: `Bearer ${rider.token}` } });
        expect(ok.statusCode).toBe(200);
      });
    });

    describe('rate limit', () => {
      it(`429 too_many_requests after ${DEFAULT_API_RATE_LIMIT_PER_MINUTE} requests a minute from one IP; other IPs are unaffected`, async () => {
        const client = new ApiClient(app);
        for (let i = 0; i < DEFAULT_API_RATE_LIMIT_PER_MINUTE; i++) {
          const response = await app.inject({ url: '/api/v1/cities', remoteAddress: client.ip });
          if (response.statusCode !== 200) throw new Error(`request ${i + 1} got ${response.statusCode}`);
        }
        const limited = await client.get('/api/v1/cities');
        expect(limited.status).toBe(429);
        expect(errorCode(limited)).toBe('too_many_requests');
        const retryAfter = Number(limited.headers['retry-after']);
        expect(retryAfter).toBeGreaterThan(0);
        expect(retryAfter).toBeLessThanOrEqual(60);
        // Every API route counts, secured or not.
        expect((await client.get('/api/v1/me')).status).toBe(429);
        expect((await new ApiClient(app).get('/api/v1/cities')).status).toBe(200);
        // The web site and the health checks are not part of the API's allowance.
        expect((await app.inject({ url: '/healthz', remoteAddress: client.ip })).statusCode).toBe(200);
      });
    });

    describe('the web site around the API', () => {
      it('health checks stay outside /api/v1', async () => {
        expect((await app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
        expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200);
        expect((await app.inject({ url: '/api/v1/healthz' })).statusCode).toBe(404);
      });

      it('HTML pages still need the CSRF token for forms', async () => {
        const response = await app.inject({
          method: 'POST',
          url: '/logout',
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
          payload: '',
        });
        expect(response.statusCode).toBe(403);
      });
    });
  },
  { open: { poolSize: 20 } },
);
