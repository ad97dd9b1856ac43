// The small holes of issue 12, through the real site and API on both databases: a `next` beyond
// Latin-1, framework errors on site paths, two location points in one millisecond, paged ride
// locations and /me/vehicles, and the caps per owner and per ride.
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vehicleLocationHistories, vehicles } from '../../src/db/schema.ts';
import { MAX_POINTS_PER_RIDE, MAX_VEHICLES_PER_OWNER } from '../../src/movr/rules.ts';
import { safeNextPath } from '../../src/web/plugins/auth.ts';
import { SECURITY_HEADERS } from '../../src/web/plugins/security-headers.ts';
import { ApiClient } from '../api/helpers.ts';
import { buildTestApp } from '../support/app.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { TEST_PASSWORD, createUser, createVehicle } from '../support/factories.ts';
import { BROWSER_ACCEPT, Browser, formTokenOf, loggedInBrowser } from './helpers.ts';

describe('safeNextPath', () => {
  it('percent-encodes characters beyond ASCII and refuses what cannot be encoded', () => {
    expect(safeNextPath('/cities/zürich/vehicles')).toBe('/cities/z%C3%BCrich/vehicles');
    expect(safeNextPath('/rides?q=Ā€😀')).toBe(`/rides?q=${encodeURIComponent('Ā€😀')}`);
    expect(safeNextPath('/x\uD800')).toBeUndefined();
    expect(safeNextPath('//evil.example/ā')).toBeUndefined();
  });
});

describeEachDatabase('small holes', (t) => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp(t.db);
  });
  afterAll(async () => {
    await app?.close();
  });

  async function token(username: string): Promise<ApiClient> {
    const response = await new ApiClient(app).post('/api/v1/auth/login', { username, password: TEST_PASSWORD });
    return new ApiClient(app, { token: response.body.token as string });
  }

  it('POST /login with a next above U+00FF logs in and redirects safely (no 500)', async () => {
    const user = await createUser(t.db);
    const browser = new Browser(app);
    const next = '/rides?note=Ā日本😀';
    const response = await browser.postForm('/login', { username: user.username ?? '', password: TEST_PASSWORD, next, _csrf: await formTokenOf(browser, '/login') });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe(`/rides?note=${encodeURIComponent('Ā日本😀')}`);
    expect((await browser.get('/profile')).statusCode).toBe(200);
    // The log-in page keeps such a next in its form, escaped.
    const page = await app.inject({ url: `/login?next=${encodeURIComponent(next)}`, headers: { accept: BROWSER_ACCEPT } });
    expect(page.statusCode).toBe(200);
  });

  describe('framework errors on site paths go through the app’s handler, with its headers, never echoing the address', () => {
    function expectAppHeaders(headers: Record<string, unknown>) {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(headers[name], name).toBe(value);
      expect(headers['x-request-id']).toEqual(expect.any(String));
    }

    it('a malformed %-escape: the friendly 400 page (or JSON), no decoded URL', async () => {
      const page = await app.inject({ url: '/cities/%E0%A4%A/vehicles<script>', headers: { accept: BROWSER_ACCEPT } });
      expect(page.statusCode).toBe(400);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.body).toContain('malformed %-escape');
      expect(page.body).not.toContain('<script>');
      expect(page.body).not.toContain('/cities/');
      expectAppHeaders(page.headers);
      const api = await app.inject({ url: '/api/v1/vehicles/%zz/1' });
      expect(api.statusCode).toBe(400);
      expect(api.json()).toEqual({ error: { code: 'bad_request', message: expect.stringContaining('%-escape') } });
      expectAppHeaders(api.headers);
    });

    it('a path parameter too long: 414 uri_too_long, as a page', async () => {
      const page = await app.inject({ url: `/cities/${'x'.repeat(150)}/vehicles`, headers: { accept: BROWSER_ACCEPT } });
      expect(page.statusCode).toBe(414);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.body).not.toContain('x'.repeat(150));
      expectAppHeaders(page.headers);
    });

    it('bad JSON sent to a site form: 400 from the app’s handler (JSON for JSON clients), with its headers', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/login',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        payload: '{"username": ',
      });
      expect([400, 403]).toContain(response.statusCode);
      expect(response.json().error.code).toEqual(expect.any(String));
      expectAppHeaders(response.headers);
    });

    it('malformed HTTP and headers too large: the error shape with the security headers, the connection closed', async () => {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const port = (app.server.address() as { port: number }).port;
      const send = (raw: string) =>
        new Promise<string>((resolve) => {
          const socket = connect(port, '127.0.0.1', () => socket.write(raw));
          let text = '';
          socket.on('data', (chunk) => (text += chunk.toString()));
          socket.on('close', () => resolve(text));
          socket.on('error', () => resolve(text));
        });
      const bad = await send('GARBAGE / HTTP/1.1\r\n\r\n');
      expect(bad).toMatch(/^HTTP\/1\.1 400 Bad Request/);
      expect(bad).toContain('"code":"bad_request"');
      expect(bad.toLowerCase()).toContain('content-security-policy:');
      const big = await send(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      expect(big).toMatch(/^HTTP\/1\.1 431 /);
      expect(big).toContain('"code":"headers_too_large"');
      expect(big.toLowerCase()).toContain('x-frame-options: deny');
    });
  });

  describe('location points', () => {
    it('the same point twice in one millisecond is answered with what is stored; a different one is a 409 (API and site)', async () => {
      const user = await createUser(t.db, { city: 'rome' });
      const api = await token(user.username ?? '');
      const vehicle = await createVehicle(t.db, { city: 'rome' });
      const started = await api.post('/api/v1/rides', { vehicle_city: 'rome', vehicle_id: vehicle });
      expect(started.status).toBe(201);
      const rideId = started.body.ride.id as string;
      const path = `/api/v1/rides/rome/${rideId}/locations`;
      expect((await api.post(path, { lat: 41.9, long: 12.5 })).status).toBe(201);
      const conflict = await (async () => {
        // A certain clash: a stored point at a fixed instant, then the domain asked for another at it.
        const { recordLocation } = await import('../../src/movr/rides.ts');
        const at = new Date('2030-05-05T10:00:00.123Z');
        await recordLocation(t.db, user, { city: 'rome', id: rideId }, { lat: 1, long: 1 }, { now: at });
        expect(await recordLocation(t.db, user, { city: 'rome', id: rideId }, { lat: 1, long: 1 }, { now: at })).toEqual({ timestamp: at, lat: 1, long: 1 });
        return recordLocation(t.db, user, { city: 'rome', id: rideId }, { lat: 2, long: 2 }, { now: at }).catch((error: Error) => error);
      })();
      expect((conflict as { code?: string }).code).toBe('location_conflict');
      // Nothing was dropped: the API lists every point it acknowledged.
      expect((await api.get(path)).body.items.map((p: { lat: number }) => p.lat).sort()).toEqual([1, 41.9]);
    });

    it('are paged on the API and on the ride page; a ride holds at most MAX_POINTS_PER_RIDE', async () => {
      const user = await createUser(t.db, { city: 'rome' });
      const api = await token(user.username ?? '');
      const vehicle = await createVehicle(t.db, { city: 'rome' });
      const ride = (await api.post('/api/v1/rides', { vehicle_city: 'rome', vehicle_id: vehicle })).body.ride as { id: string; start_time: string };
      const base = new Date(ride.start_time).getTime();
      const rows = Array.from({ length: 45 }, (_, i) => ({ city: 'rome', rideId: ride.id, timestamp: new Date(base + (i + 1) * 1000), lat: i, long: i }));
      await t.db.orm.insert(vehicleLocationHistories).values(rows);
      const path = `/api/v1/rides/rome/${ride.id}/locations`;
      const first = await api.get(path);
      expect(first.body.items).toHaveLength(20);
      expect(first.body.items[0].lat).toBe(0);
      const second = await api.get(`${path}?cursor=${encodeURIComponent(first.body.next_cursor)}`);
      expect(second.body.items[0].lat).toBe(20);
      const third = await api.get(`${path}?cursor=${encodeURIComponent(second.body.next_cursor)}`);
      expect(third.body).toEqual({ items: expect.any(Array), next_cursor: null });
      expect(third.body.items).toHaveLength(5);
      expect((await api.get(`${path}?cursor=forged`)).status).toBe(400);

      const browser = await loggedInBrowser(app, user.username ?? '');
      const page = await browser.get(`/rides/rome/${ride.id}`);
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('45 points');
      const later = /href="([^"]*\?points=[^"#]*)#locations-title" rel="next"/.exec(page.body)?.[1];
      expect(later).toBeDefined();
      const next = await browser.get((later ?? '').replaceAll('&amp;', '&'));
      expect(next.statusCode).toBe(200);
      expect(next.body).toContain('First points');

      const more = Array.from({ length: MAX_POINTS_PER_RIDE - 45 }, (_, i) => ({ city: 'rome', rideId: ride.id, timestamp: new Date(base + 100_000 + i), lat: 1, long: 1 }));
      for (let i = 0; i < more.length; i += 1000) await t.db.orm.insert(vehicleLocationHistories).values(more.slice(i, i + 1000));
      const full = await api.post(path, { lat: 1, long: 2 });
      expect(full.status).toBe(409);
      expect(full.body.error.code).toBe('ride_points_limit');
    });
  });

  it('/me/vehicles is paged on the API and the page; an owner has at most MAX_VEHICLES_PER_OWNER in service (API and form)', async () => {
    const user = await createUser(t.db, { city: 'paris' });
    const api = await token(user.username ?? '');
    await t.db.orm.insert(vehicles).values(
      Array.from({ length: MAX_VEHICLES_PER_OWNER }, (_, i) => ({
        id: randomUUID(),
        city: 'paris',
        ownerId: user.id,
        type: 'bike',
        status: 'available',
        currentLocation: `Rue ${i}`,
        ext: { color: 'red' },
      })),
    );
    const first = await api.get('/api/v1/me/vehicles');
    expect(first.body.items).toHaveLength(20);
    const second = await api.get(`/api/v1/me/vehicles?limit=100&cursor=${encodeURIComponent(first.body.next_cursor)}`);
    expect(second.body.items).toHaveLength(MAX_VEHICLES_PER_OWNER - 20);
    expect(second.body.next_cursor).toBeNull();
    expect(new Set([...first.body.items, ...second.body.items].map((v: { id: string }) => v.id)).size).toBe(MAX_VEHICLES_PER_OWNER);

    const refused = await api.post('/api/v1/vehicles', { city: 'paris', type: 'bike', current_location: 'Rue X' });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toEqual({ code: 'vehicle_limit_reached', message: expect.stringContaining(String(MAX_VEHICLES_PER_OWNER)) });

    const browser = await loggedInBrowser(app, user.username ?? '');
    const page = await browser.get('/vehicles/mine');
    expect(page.body).toContain(`${MAX_VEHICLES_PER_OWNER} in service`);
    expect(page.body).toMatch(/href="\/vehicles\/mine\?cursor=[^"]+" rel="next"/);
    const form = await browser.postForm('/vehicles/new', { type: 'bike', color: 'red', location: 'Rue Y', _csrf: await formTokenOf(browser, '/vehicles/new') });
    expect(form.statusCode).toBe(409);
    expect(form.body).toContain('the most one owner can');
  });
});
