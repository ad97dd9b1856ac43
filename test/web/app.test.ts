import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { type Database, openDatabase } from '../../src/db/connect.ts';
import { vehicles } from '../../src/db/schema.ts';
import { DEFAULT_REGION_MAP } from '../../src/region-map.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../src/movr/errors.ts';
import { countVehiclesByCity } from '../../src/movr/vehicles.ts';
import { prefersJson, wantsJson } from '../../src/web/errors.ts';
import { buildTestApp } from '../support/app.ts';
import { createTestDatabase, describeEachDatabase, emptyTables } from '../support/databases.ts';
import { createUserRow, vehicleRow } from '../support/factories.ts';
import { BROWSER_ACCEPT } from './helpers.ts';

const XSS = '<script>alert(1)</script>';

/** A pino-compatible stream that keeps every log line, for asserting on what was logged. */
function logCapture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      callback();
    },
  });
  return { lines, logger: { level: 'info', stream } };
}

/** [city, count] pairs in page order, from the data attributes of the city links. */
function cityCounts(html: string): [string, number][] {
  return [...html.matchAll(/data-city="([^"]*)" data-count="(\d+)"/g)].map((m) => [m[1] ?? '', Number(m[2])]);
}

/** Region sections in page order, each with the cities listed in it. */
function regionSections(html: string): { region: string; cities: string[] }[] {
  return html
    .split('<section')
    .slice(1)
    .map((section) => ({
      region: /aria-labelledby="region-([a-z0-9-]+)"/.exec(section)?.[1] ?? '',
      cities: [...section.matchAll(/data-city="([^"]*)"/g)].map((m) => m[1] ?? ''),
    }));
}

describeEachDatabase('web app', (t) => {
  let app: FastifyInstance;
  const logs = logCapture();

  beforeAll(async () => {
    await emptyTables(t.db);
    const { id: nyOwner } = await createUserRow(t.db, { city: 'new york', name: 'Nia Owner' });
    const { id: parisOwner } = await createUserRow(t.db, { city: 'paris', name: 'Pierre Owner' });
    const vehicle = (city: string, status: string, ownerId: string | null = null) => vehicleRow(randomUUID(), { city, status, ownerId });
    await t.db.orm.insert(vehicles).values([
      vehicle('new york', 'available', nyOwner),
      vehicle('new york', 'in_use', nyOwner),
      vehicle('new york', 'retired', nyOwner),
      vehicle('boston', 'available'),
      vehicle('paris', 'available', parisOwner),
      vehicle('paris', 'lost', parisOwner),
      vehicle('paris', 'in_use'),
      vehicle('rome', 'retired'),
      vehicle('rome', 'available'),
      // Not one of MovR's cities: counted by the query, never shown on the page.
      vehicle(XSS, 'available'),
    ]);

    app = await buildTestApp(t.db, { logger: logs.logger, routes: errorRoutes });
  });

  /** Test-only routes, to drive the error handler. */
  async function errorRoutes(instance: FastifyInstance): Promise<void> {
    const typed = instance.withTypeProvider<ZodTypeProvider>();
    typed.post(
      '/api/test/echo',
      {
        schema: {
          body: z.object({ name: z.string().min(1), seats: z.number().int() }),
          response: { 200: z.object({ name: z.string(), seats: z.number() }) },
        },
      },
      async (request) => request.body,
    );
    typed.get('/api/test/not-found', async () => {
      throw new NotFoundError('No such vehicle.');
    });
    typed.get('/api/test/conflict', async () => {
      throw new ConflictError('The vehicle is already in use.');
    });
    typed.get('/api/test/invalid', async () => {
      throw new ValidationError('Check the ride.', [{ path: 'end_address', message: 'Enter where the ride ended' }]);
    });
    typed.get('/test/boom', async () => {
      throw new Error('relation "secret_table" does not exist: SELECT password FROM secret_table');
    });
    typed.get('/test/sql-error', async () => {
      await t.db.execute('SELECT * FROM no_such_table_here');
      return 'unreachable';
    });
  }

  afterAll(async () => {
    await app?.close();
  });

  describe('GET /', () => {
    it('counts vehicles per city in one query, leaving out lost and retired ones', async () => {
      const counts = await countVehiclesByCity(t.db.orm);
      expect(Object.fromEntries(counts)).toEqual({ 'new york': 2, boston: 1, paris: 2, rome: 1, [XSS]: 1 });
      for (const count of counts.values()) expect(typeof count).toBe('number');
    });

    it('lists the nine cities grouped by region with their vehicle counts', async () => {
      const response = await app.inject({ url: '/', headers: { accept: BROWSER_ACCEPT } });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      const html = response.body;
      expect(html).toMatch(/^<!doctype html>/);
      expect(cityCounts(html)).toEqual([
        ['new york', 2],
        ['boston', 1],
        ['washington dc', 0],
        ['san francisco', 0],
        ['seattle', 0],
        ['los angeles', 0],
        ['amsterdam', 0],
        ['paris', 2],
        ['rome', 1],
      ]);
      expect(regionSections(html)).toEqual(
        DEFAULT_REGION_MAP.regionNames.map((region) => ({
          region,
          cities: DEFAULT_REGION_MAP.cities.filter((city) => city.region === region).map((city) => city.name),
        })),
      );
      expect(html).not.toContain('This instance serves');
      expect(html).toContain('Washington DC');
      expect(html).toContain('2 vehicles');
      expect(html).toContain('1 vehicle<');
      expect(html).toContain('6 vehicles in 9 cities');
    });

    it('links each city to its vehicle list', async () => {
      const html = (await app.inject({ url: '/' })).body;
      for (const city of DEFAULT_REGION_MAP.cities) {
        expect(html).toContain(`href="/cities/${encodeURIComponent(city.name)}/vehicles"`);
      }
      expect(html).toContain('href="/cities/new%20york/vehicles"');
    });

    it("puts the instance's region first and says so", async () => {
      const regional = await buildTestApp(t.db, { env: { MOVR_REGION: 'europe-west1' } });
      try {
        const html = (await regional.inject({ url: '/' })).body;
        expect(html).toContain('This instance serves europe-west1');
        expect(regionSections(html).map((s) => s.region)).toEqual(['europe-west1', 'us-east1', 'us-west1']);
        expect(cityCounts(html).slice(0, 3)).toEqual([
          ['amsterdam', 0],
          ['paris', 2],
          ['rome', 1],
        ]);
      } finally {
        await regional.close();
      }
    });

    it('never puts markup from data into the page unescaped', async () => {
      const html = (await app.inject({ url: '/' })).body;
      expect(html).not.toContain('<script');
      expect(html).not.toContain('alert(1)');
    });
  });

  describe('health checks', () => {
    it('GET /healthz answers ok', async () => {
      const response = await app.inject({ url: '/healthz' });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ status: 'ok' });
      expect(response.headers['cache-control']).toBe('no-store');
    });

    it('GET /readyz answers ready with the database kind', async () => {
      const response = await app.inject({ url: '/readyz' });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ status: 'ready', database: t.db.kind });
    });

    it('GET /readyz answers 503 once the database is closed, without details', async () => {
      // A database of the same kind that this test alone uses, and closes.
      let separate: Database;
      let removeSeparate = () => {};
      if (t.kind === 'pglite') {
        const copy = await createTestDatabase('pglite');
        separate = copy.db;
        removeSeparate = () => rmSync(copy.url.slice('pglite:'.length), { recursive: true, force: true });
      } else {
        separate = await openDatabase(inject('postgresUrl') ?? '');
      }
      const probe = await buildTestApp(separate);
      try {
        expect((await probe.inject({ url: '/readyz' })).statusCode).toBe(200);
        await separate.close();
        const response = await probe.inject({ url: '/readyz' });
        expect(response.statusCode).toBe(503);
        expect(response.json()).toEqual({ status: 'unavailable', database: separate.kind });
        expect((await probe.inject({ url: '/healthz' })).statusCode).toBe(200);
      } finally {
        await probe.close();
        removeSeparate();
      }
    });

    it('GET /readyz answers 503 when the database does not answer within 2 s', async () => {
      const hanging: Database = { ...t.db, execute: () => new Promise(() => {}) };
      const probe = await buildTestApp(hanging);
      try {
        const started = Date.now();
        const response = await probe.inject({ url: '/readyz' });
        expect(response.statusCode).toBe(503);
        expect(response.json()).toEqual({ status: 'unavailable', database: t.db.kind });
        expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
        expect(Date.now() - started).toBeLessThan(5000);
      } finally {
        await probe.close();
      }
    });
  });

  describe('errors', () => {
    it('an unknown route is a friendly HTML 404 page for browsers', async () => {
      const response = await app.inject({ url: '/no/such/page', headers: { accept: BROWSER_ACCEPT } });
      expect(response.statusCode).toBe(404);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.body).toContain('We can’t find that page');
      expect(response.body).toContain('<code>/no/such/page</code>');
      expect(response.body).toContain('href="/static/styles.css"');
    });

    it('an unknown route is not_found JSON for JSON clients and under /api', async () => {
      for (const request of [
        { url: '/no/such/page', headers: { accept: 'application/json' } },
        { url: '/api/no/such/thing', headers: { accept: BROWSER_ACCEPT } },
        { url: '/api/no/such/thing', headers: {} },
      ]) {
        const response = await app.inject(request);
        expect(response.statusCode).toBe(404);
        expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(response.json()).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
      }
    });

    it('escapes the requested path on the 404 page', async () => {
      const response = await app.inject({
        url: `/${encodeURIComponent(XSS)}`,
        headers: { accept: BROWSER_ACCEPT },
      });
      expect(response.statusCode).toBe(404);
      expect(response.body).not.toContain('<script');
      // Shown as it was sent, percent-encoded: a page never says words the address smuggled in.
      expect(response.body).toContain(`<code>/${encodeURIComponent(XSS).replaceAll("'", '&#39;')}</code>`);
    });

    it('invalid input is a 400 validation_failed with field errors', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/api/test/echo',
        payload: { name: '', seats: 1.5 },
      });
      expect(response.statusCode).toBe(400);
      const body = response.json();
      expect(body.error.code).toBe('validation_failed');
      expect(body.error.fields).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ in: 'body', path: 'name', message: expect.any(String) }),
          expect.objectContaining({ in: 'body', path: 'seats', message: expect.any(String) }),
        ]),
      );
      const ok = await app.inject({ method: 'POST', url: '/api/test/echo', payload: { name: 'Ada', seats: 2 } });
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toEqual({ name: 'Ada', seats: 2 });
    });

    it('malformed JSON and oversized bodies are client errors', async () => {
      const malformed = await app.inject({
        method: 'POST',
        url: '/api/test/echo',
        headers: { 'content-type': 'application/json' },
        payload: '{"name": ',
      });
      expect(malformed.statusCode).toBe(400);
      expect(malformed.json().error.code).toBe('bad_request');

      const huge = await app.inject({
        method: 'POST',
        url: '/api/test/echo',
        payload: { name: 'x'.repeat(150 * 1024), seats: 1 },
      });
      expect(huge.statusCode).toBe(413);
      expect(huge.json().error.code).toBe('payload_too_large');
    });

    it('domain errors map to statuses by code', async () => {
      const notFound = await app.inject({ url: '/api/test/not-found' });
      expect(notFound.statusCode).toBe(404);
      expect(notFound.json()).toEqual({ error: { code: 'not_found', message: 'No such vehicle.' } });

      const conflict = await app.inject({ url: '/api/test/conflict' });
      expect(conflict.statusCode).toBe(409);
      expect(conflict.json()).toEqual({ error: { code: 'conflict', message: 'The vehicle is already in use.' } });

      const invalid = await app.inject({ url: '/api/test/invalid' });
      expect(invalid.statusCode).toBe(400);
      expect(invalid.json()).toEqual({
        error: {
          code: 'validation_failed',
          message: 'Check the ride.',
          fields: [{ path: 'end_address', message: 'Enter where the ride ended' }],
        },
      });
    });

    it('a 5xx shows no internals, as an HTML page or as JSON, and is logged with the error', async () => {
      const page = await app.inject({ url: '/test/boom', headers: { accept: BROWSER_ACCEPT } });
      expect(page.statusCode).toBe(500);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.body).toContain('Something went wrong');
      expect(page.body).toContain(page.headers['x-request-id']);
      expect(page.body).not.toMatch(/secret_table|SELECT|password|\.ts:\d+/);

      const json = await app.inject({ url: '/test/boom', headers: { accept: 'application/json' } });
      expect(json.statusCode).toBe(500);
      expect(json.json()).toEqual({
        error: { code: 'internal_error', message: expect.any(String), requestId: json.headers['x-request-id'] },
      });
      expect(json.body).not.toMatch(/secret_table|SELECT|password|stack/);

      const logged = logs.lines.find(
        (line) => line.reqId === json.headers['x-request-id'] && line.level === 50 && line.err !== undefined,
      );
      expect(logged).toBeDefined();
      expect(JSON.stringify(logged)).toContain('secret_table');
    });

    it('a database error is a 500 that does not leak SQL', async () => {
      const response = await app.inject({ url: '/test/sql-error', headers: { accept: 'application/json' } });
      expect(response.statusCode).toBe(500);
      expect(response.json().error.code).toBe('internal_error');
      expect(response.body).not.toContain('no_such_table_here');
    });
  });

  describe('security and assets', () => {
    it('sends strict security headers and no X-Powered-By', async () => {
      const response = await app.inject({ url: '/' });
      const csp = String(response.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['x-frame-options']).toBe('DENY');
      expect(response.headers['referrer-policy']).toBe('no-referrer');
      expect(response.headers['x-powered-by']).toBeUndefined();
      expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('serves the stylesheet and icon from /static/', async () => {
      const css = await app.inject({ url: '/static/styles.css' });
      expect(css.statusCode).toBe(200);
      expect(css.headers['content-type']).toMatch(/^text\/css/);
      expect(css.body).toContain(':focus-visible');
      const icon = await app.inject({ url: '/static/favicon.svg' });
      expect(icon.statusCode).toBe(200);
      expect(icon.headers['content-type']).toMatch(/^image\/svg\+xml/);
    });

    it('a missing static file is a 404, and paths cannot escape the public folder', async () => {
      expect((await app.inject({ url: '/static/nope.css' })).statusCode).toBe(404);
      const traversal = await app.inject({ url: '/static/../app.ts' });
      expect(traversal.statusCode).toBe(404);
      expect(traversal.body).not.toContain('buildApp');
      const encoded = await app.inject({ url: '/static/%2e%2e/app.ts' });
      expect(encoded.statusCode).toBe(404);
      expect(encoded.body).not.toContain('buildApp');
    });
  });
});

describe('content negotiation', () => {
  it('prefers HTML for browsers and */*, JSON when asked for it', () => {
    expect(prefersJson(undefined)).toBe(false);
    expect(prefersJson('*/*')).toBe(false);
    expect(prefersJson(BROWSER_ACCEPT)).toBe(false);
    expect(prefersJson('application/json')).toBe(true);
    expect(prefersJson('application/json, */*;q=0.5')).toBe(true);
    expect(prefersJson('application/json, */*')).toBe(true);
    expect(prefersJson('text/html;q=0.5, application/json')).toBe(true);
    expect(prefersJson('application/json;q=0, */*')).toBe(false);
    expect(wantsJson({ url: '/api/cities', headers: { accept: BROWSER_ACCEPT } })).toBe(true);
    expect(wantsJson({ url: '/healthz?x=1', headers: {} })).toBe(true);
    expect(wantsJson({ url: '/apiary', headers: {} })).toBe(false);
  });
});
