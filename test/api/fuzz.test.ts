// Property-based tests: random and malformed bodies, path segments, query strings and headers
// thrown at every API route, with and without valid credentials. Whatever comes in:
//   - the answer is never a 5xx;
//   - its status is one the route declares, and its body parses with the declared schema
//     (ApiClient checks every response; outside any route it is a 404 with the error shape);
//   - a 4xx changed nothing: a snapshot of every table is the same before and after;
//   - a 2xx is possible only when the input happened to be valid, and is then documented.
// Runs are bounded (numRuns per property) so the suite stays fast; fast-check prints the seed
// and the smallest failing input when a property fails.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/connect.ts';
import { VEHICLE_COLORS, VEHICLE_STATUSES, VEHICLE_TYPES } from '../../src/movr/rules.ts';
import { DEFAULT_REGION_MAP } from '../../src/region-map.ts';
import { type ApiRoute, apiRoutes } from '../../src/web/api/index.ts';
import { buildTestApp } from '../support/app.ts';
import { TEST_PASSWORD, createVehicle, insertPromoCode } from '../support/factories.ts';
import { snapshot } from '../support/snapshot.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { ApiClient, type ApiResponse, type TestUser, quickUser, registeredUser } from './helpers.ts';

const TIMEOUT_MS = 120_000;

// ---------------------------------------------------------------------------------------------
// Arbitraries

const printableAscii = fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code));
/** Text that can go in a header value. */
const headerText = (maxLength = 60) => fc.string({ unit: printableAscii, maxLength });
const anyText = (maxLength = 40) => fc.string({ unit: 'grapheme', maxLength });
const cityNames = DEFAULT_REGION_MAP.cities.map((city) => city.name);

/** Strings that often break parsers and validators. */
const nastyString = fc.constantFrom(
  '',
  ' ',
  '\u0000',
  "'; DROP TABLE users; --",
  '<script>alert(1)</script>',
  '../../etc/passwd',
  '%00',
  '{{7*7}}',
  '\u202e',
  '😀'.repeat(50),
  'a'.repeat(5000),
  'NaN',
  '-1',
  '1e309',
  'null',
  'undefined',
  'true',
  '__proto__',
  'constructor',
  '0x10',
  '2026-13-45T25:61:61Z',
);

/** Any JSON value, nested a little. */
const jsonValue = fc.jsonValue({ maxDepth: 3 });

/** A value for a field: mostly of plausible types and contents, sometimes anything. */
const fieldValue = (plausible: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { weight: 4, arbitrary: plausible },
    { weight: 1, arbitrary: nastyString },
    { weight: 1, arbitrary: jsonValue },
    { weight: 1, arbitrary: fc.constantFrom(null, true, 0, -1, 1.5, [], {}) },
  );

interface World {
  app: FastifyInstance;
  db: Database;
  main: TestUser;
  other: TestUser;
  vehicleIds: string[];
  rideIds: string[];
}

/** One of a pool that grows during the run (rides and vehicles the fuzzing creates). */
function fromPool(pool: readonly string[]): fc.Arbitrary<string> {
  return fc.nat().map((i) => pool[i % pool.length] ?? '');
}

/** Bodies a route accepts: what a well-behaved client sends. */
function validBody(world: World, route: ApiRoute): fc.Arbitrary<Record<string, unknown>> {
  const word = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'.split('')), minLength: 3, maxLength: 12 });
  const key = `${route.method} ${route.url}`;
  switch (key) {
    case 'POST /api/v1/auth/register':
      return fc.record({ username: word.map((w) => `fz${w}`), password: fc.constant(TEST_PASSWORD), name: word, city: fc.constantFrom(...cityNames) });
    case 'POST /api/v1/auth/login':
      return fc.constant({ username: world.main.username, password: TEST_PASSWORD });
    case 'PATCH /api/v1/me':
      return fc.record({ name: word, address: fc.option(word) }, { requiredKeys: [] });
    case 'POST /api/v1/vehicles':
      return fc.record(
        { city: fc.constant('new york'), type: fc.constantFrom(...VEHICLE_TYPES), current_location: word, color: fc.constantFrom(...VEHICLE_COLORS) },
        { requiredKeys: ['city', 'type', 'current_location'] },
      );
    case 'POST /api/v1/rides':
      return fc.record({ vehicle_city: fc.constant('new york'), vehicle_id: fromPool(world.vehicleIds) });
    case 'POST /api/v1/rides/:city/:id/locations':
      return fc.record({ lat: fc.double({ min: -90, max: 90, noNaN: true }), long: fc.double({ min: -180, max: 180, noNaN: true }) });
    case 'POST /api/v1/rides/:city/:id/end':
      return fc.record({ end_address: word });
    case 'POST /api/v1/me/promo-codes':
      return fc.constant({ code: 'FUZZ-10' });
    default:
      return fc.constant({});
  }
}

/** Bodies shaped like each route's: the right field names with random, often wrong, values. */
function nearBody(world: World, route: ApiRoute): fc.Arbitrary<unknown> {
  const id = fieldValue(fc.oneof(fromPool(world.vehicleIds), fromPool(world.rideIds), fc.constantFrom(randomUUID(), 'not-a-uuid')));
  const city = fieldValue(fc.constantFrom(...cityNames, 'atlantis', 'NEW YORK'));
  const text = fieldValue(anyText());
  const key = `${route.method} ${route.url}`;
  const shapes: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
    'POST /api/v1/auth/register': fc.record(
      { username: text, password: fieldValue(fc.constantFrom(TEST_PASSWORD, 'short')), name: text, city, address: text, card_number: text },
      { requiredKeys: [] },
    ),
    'POST /api/v1/auth/login': fc.record(
      { username: fieldValue(fc.constantFrom(world.main.username ?? 'x', 'nobody')), password: fieldValue(fc.constantFrom(TEST_PASSWORD, 'wrong')) },
      { requiredKeys: [] },
    ),
    'PATCH /api/v1/me': fc.record({ name: text, address: text, card_number: text }, { requiredKeys: [] }),
    'POST /api/v1/vehicles': fc.record(
      {
        city,
        type: fieldValue(fc.constantFrom(...VEHICLE_TYPES, 'car')),
        current_location: text,
        color: fieldValue(fc.constantFrom(...VEHICLE_COLORS, 'plaid')),
        brand: text,
      },
      { requiredKeys: [] },
    ),
    'POST /api/v1/rides': fc.record({ vehicle_city: city, vehicle_id: id }, { requiredKeys: [] }),
    'POST /api/v1/rides/:city/:id/locations': fc.record(
      { lat: fieldValue(fc.double({ min: -100, max: 100, noNaN: true })), long: fieldValue(fc.double({ min: -200, max: 200, noNaN: true })) },
      { requiredKeys: [] },
    ),
    'POST /api/v1/rides/:city/:id/end': fc.record({ end_address: text }, { requiredKeys: [] }),
    'POST /api/v1/me/promo-codes': fc.record({ code: fieldValue(fc.constantFrom('FUZZ-10', 'NOPE', '')) }, { requiredKeys: [] }),
  };
  const shape = shapes[key] ?? fc.constant({});
  // Often valid; otherwise near misses, sometimes with extra fields, which must be ignored.
  return fc.oneof(
    { weight: 1, arbitrary: validBody(world, route) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(shape, fc.option(fc.dictionary(anyText(10), jsonValue, { maxKeys: 3 })))
        .map(([body, extra]) => ({ ...(extra ?? {}), ...body })),
    },
  );
}

/** A path segment for :city. */
function citySegment(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...cityNames).map(encodeURIComponent) },
    { weight: 1, arbitrary: anyText().filter((s) => s.length > 0).map(encodeURIComponent) },
    { weight: 1, arbitrary: nastyString.filter((s) => s.length > 0).map(encodeURIComponent) },
    { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '%E0%A4%A', '%2F', '..', '.', '%00', 'new york') },
  );
}

/** A path segment for :id. */
function idSegment(world: World): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.oneof(fromPool(world.vehicleIds), fromPool(world.rideIds)) },
    { weight: 1, arbitrary: fc.uuid({ version: [1, 4, 7] }) },
    { weight: 1, arbitrary: anyText().filter((s) => s.length > 0).map(encodeURIComponent) },
    { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '00000000-0000-0000-0000-00000000000g', 'A1B2C3D4-0000-4000-8000-000000000000') },
  );
}

/** A query string, structured or raw. */
const queryString = fc.oneof(
  { weight: 1, arbitrary: fc.constant('') },
  {
    weight: 3,
    arbitrary: fc
      .record(
        {
          city: fieldValue(fc.constantFrom(...cityNames, 'atlantis')),
          limit: fieldValue(fc.integer({ min: -5, max: 150 })),
          cursor: fieldValue(fc.oneof(anyText(), fc.uuid())),
          status: fieldValue(fc.constantFrom(...VEHICLE_STATUSES, 'broken')),
          type: fieldValue(fc.constantFrom(...VEHICLE_TYPES, 'car')),
        },
        { requiredKeys: [] },
      )
      .map((params) => {
        const search = new URLSearchParams();
        for (const [name, value] of Object.entries(params)) search.append(name, typeof value === 'string' ? value : JSON.stringify(value));
        const text = search.toString();
        return text === '' ? '' : `?${text}`;
      }),
  },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...'abcity=&%[]._-01limcursor+'.split('')), maxLength: 40 }).map((q) => `?${q}`) },
);

type AuthChoice = 'none' | 'main' | 'other' | 'garbage' | 'tampered' | 'revoked' | 'scheme';
const authChoice: fc.Arbitrary<AuthChoice> = fc.oneof(
  { weight: 5, arbitrary: fc.constant<AuthChoice>('main') },
  { weight: 2, arbitrary: fc.constant<AuthChoice>('other') },
  { weight: 3, arbitrary: fc.constantFrom<AuthChoice>('none', 'garbage', 'tampered', 'revoked', 'scheme') },
);

/** A body as sent: JSON of a value, a raw string, or nothing; with a Content-Type. */
type Sent = { raw?: string; contentType?: string };
function sentBody(body: fc.Arbitrary<unknown>): fc.Arbitrary<Sent> {
  return fc.oneof(
    { weight: 6, arbitrary: body.map((value) => ({ raw: JSON.stringify(value) ?? 'null', contentType: 'application/json' })) },
    { weight: 1, arbitrary: fc.constant({}) },
    { weight: 1, arbitrary: anyText(60).map((raw) => ({ raw, contentType: 'application/json' })) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(body, fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/json; charset=utf-16', ''))
        .map(([value, contentType]) => ({ raw: JSON.stringify(value) ?? '', contentType })),
    },
    { weight: 1, arbitrary: body.map((value) => ({ raw: JSON.stringify(value) ?? '' })) },
  );
}

// ---------------------------------------------------------------------------------------------

describeEachDatabase(
  'API fuzzing',
  (t) => {
    let world: World;
    let routes: ApiRoute[];
    /** Routes by "METHOD /url": the arbitraries pick names, so counterexamples print short. */
    let routeNames: string[];
    const byName = (name: string): ApiRoute => {
      const route = routes.find((r) => `${r.method} ${r.url}` === name);
      if (!route) throw new Error(`no route ${name}`);
      return route;
    };
    let revokedToken: string;
    const seen = { statuses: new Map<number, number>(), successes: 0 };

    beforeAll(async () => {
      const app = await buildTestApp(t.db);
      const main = await registeredUser(app, { city: 'new york', name: 'Fuzz Main' });
      const other = await quickUser(app, t.db, 'new york', 'Fuzz Other');
      const vehicleIds = [
        await createVehicle(t.db, { ownerId: main.id }),
        await createVehicle(t.db, { ownerId: other.id }),
        await createVehicle(t.db),
        await createVehicle(t.db, { city: 'paris' }),
      ];
      const otherRide = await other.client.post('/api/v1/rides', { vehicle_city: 'new york', vehicle_id: vehicleIds[1] });
      await insertPromoCode(t.db, 'FUZZ-10');
      const login = await new ApiClient(app).post('/api/v1/auth/login', { username: main.username, password: TEST_PASSWORD });
      revokedToken = login.body.token;
      await new ApiClient(app, { token: revokedToken }).post('/api/v1/auth/logout');
      world = { app, db: t.db, main, other, vehicleIds, rideIds: [otherRide.body.ride.id] };
      // Logging out and deleting the account would end the fuzzing of everything else: those
      // two routes are fuzzed with throw-away users (see tokenFor).
      routes = [...apiRoutes(app)];
      routeNames = routes.map((r) => `${r.method} ${r.url}`);
    });
    afterAll(async () => {
      await world?.app.close();
    });

    /** The Authorization header for a choice; logout and account deletion get a throw-away user. */
    async function authorization(choice: AuthChoice, route: ApiRoute): Promise<string | undefined> {
      const destructive = (route.method === 'POST' && route.url.endsWith('/auth/logout')) || (route.method === 'DELETE' && route.url === '/api/v1/me');
      switch (choice) {
        case 'none':
          return undefined;
        case 'main':
        case 'other': {
          if (destructive) return `Bearer ${(await quickUser(world.app, world.db)).token}`;
          return `Bearer ${(choice === 'main' ? world.main : world.other).token}`;
        }
        case 'garbage':
          return `Bearer movr_${randomUUID()}.${'A'.repeat(43)}`;
        case 'tampered': {
          const token = world.main.token;
          return `Bearer ${token.slice(0, 12)}${token.charAt(12) === 'x' ? 'y' : 'x'}${token.slice(13)}`;
        }
        case 'revoked':
          return `Bearer ${revokedToken}`;
        case 'scheme':
          return `Basic ${Buffer.from(`${world.main.username}:${TEST_PASSWORD}`).toString('base64')}`;
      }
    }

    /** Sends one request and checks the properties that hold for every request. */
    async function check(route: ApiRoute, url: string, sent: Sent, headers: Record<string, string>): Promise<ApiResponse> {
      const before = await snapshot(world.db);
      const client = new ApiClient(world.app);
      const response = await client.request(route.method, url, {
        headers: { ...(sent.contentType === undefined ? {} : { 'content-type': sent.contentType }), ...headers },
        ...(sent.raw === undefined ? {} : { raw: sent.raw }),
      });
      seen.statuses.set(response.status, (seen.statuses.get(response.status) ?? 0) + 1);
      const where = `${route.method} ${url} ${JSON.stringify(headers)} ${String(sent.raw).slice(0, 200)} → ${response.status} ${response.raw.body.slice(0, 300)}`;
      expect(response.status, where).toBeLessThan(500);
      expect(response.status, where).toBeGreaterThanOrEqual(200);
      expect(response.raw.body, where).not.toMatch(/\bat [\w.<>]+ \(|node_modules|SELECT |INSERT |UPDATE |violates|syntax error/);
      if (response.status >= 400) {
        expect(await snapshot(world.db), `a refused request changed data: ${where}`).toEqual(before);
      } else {
        seen.successes++;
        // What the fuzzing creates becomes material for later runs.
        if (response.body?.ride?.id && !world.rideIds.includes(response.body.ride.id)) world.rideIds.push(response.body.ride.id);
        if (response.body?.vehicle?.id && !world.vehicleIds.includes(response.body.vehicle.id)) world.vehicleIds.push(response.body.vehicle.id);
      }
      return response;
    }

    function urlFor(route: ApiRoute, city: string, id: string, query: string): string {
      return route.url.replace(':city', city).replace(':id', id) + query;
    }

    it(
      'random bodies of the right shape, with and without credentials, on every route',
      async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.constantFrom(...routeNames).chain((name) =>
              fc.record({
                name: fc.constant(name),
                city: fc.oneof({ weight: 4, arbitrary: fc.constant('new%20york') }, { weight: 1, arbitrary: citySegment() }),
                id: fc.oneof({ weight: 3, arbitrary: fc.oneof(fromPool(world.vehicleIds), fromPool(world.rideIds)) }, { weight: 1, arbitrary: idSegment(world) }),
                body: sentBody(nearBody(world, byName(name))),
                auth: authChoice,
                idempotencyKey: fc.option(fc.oneof(headerText(20), fc.constantFrom('fuzz-key-1', 'fuzz-key-2'))),
              }),
            ),
            async ({ name, city, id, body, auth, idempotencyKey }) => {
              const route = byName(name);
              const headers: Record<string, string> = {};
              const authorizationHeader = await authorization(auth, route);
              if (authorizationHeader) headers.authorization = authorizationHeader;
              if (idempotencyKey !== null) headers['idempotency-key'] = idempotencyKey;
              await check(route, urlFor(route, city, id, ''), body, headers);
            },
          ),
          { numRuns: 200 },
        );
      },
      TIMEOUT_MS,
    );

    it(
      'any JSON, raw strings and wrong content types as bodies',
      async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.constantFrom(...routeNames),
            sentBody(fc.oneof(jsonValue, fc.object(), fc.array(jsonValue, { maxLength: 3 }))),
            fc.constantFrom<AuthChoice>('main', 'none'),
            async (name, body, auth) => {
              const route = byName(name);
              const headers: Record<string, string> = {};
              const authorizationHeader = await authorization(auth, route);
              if (authorizationHeader) headers.authorization = authorizationHeader;
              await check(route, urlFor(route, 'new%20york', world.rideIds[0] ?? '', ''), body, headers);
            },
          ),
          { numRuns: 150 },
        );
      },
      TIMEOUT_MS,
    );

    it(
      'random path segments and query strings',
      async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.constantFrom(...routeNames),
            citySegment(),
            idSegment(world),
            queryString,
            fc.constantFrom<AuthChoice>('main', 'other', 'none'),
            async (name, city, id, query, auth) => {
              const route = byName(name);
              const headers: Record<string, string> = {};
              const authorizationHeader = await authorization(auth, route);
              if (authorizationHeader) headers.authorization = authorizationHeader;
              const body = route.method === 'GET' || route.method === 'DELETE' ? {} : { raw: '{}', contentType: 'application/json' };
              await check(route, urlFor(route, city, id, query), body, headers);
            },
          ),
          { numRuns: 200 },
        );
      },
      TIMEOUT_MS,
    );

    it(
      'random headers: Authorization, Idempotency-Key, Content-Type, Cookie, Accept',
      async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.constantFrom(...routeNames),
            fc.record(
              {
                authorization: fc.oneof(headerText(), fc.constant(`Bearer ${world.main.token}`), headerText().map((s) => `Bearer ${s}`)),
                'idempotency-key': headerText(300),
                'content-type': fc.oneof(headerText(), fc.constant('application/json')),
                cookie: fc.oneof(headerText(), headerText().map((s) => `movr_session=${s}`)),
                accept: fc.oneof(headerText(), fc.constantFrom('text/html', 'application/json', '*/*')),
                'content-length': fc.constantFrom('0', '2'),
              },
              { requiredKeys: [] },
            ),
            async (name, headers) => {
              const route = byName(name);
              const url = urlFor(route, 'new%20york', world.vehicleIds[0] ?? '', route.url.endsWith('/vehicles') ? '?city=new%20york' : '');
              const sent = headers['content-length'] === '2' ? { raw: '{}' } : {};
              const { 'content-length': _length, ...rest } = headers;
              const destructive = (route.method === 'POST' && route.url.endsWith('/auth/logout')) || (route.method === 'DELETE' && route.url === '/api/v1/me');
              if (destructive && rest.authorization === `Bearer ${world.main.token}`) {
                rest.authorization = `Bearer ${(await quickUser(world.app, world.db)).token}`;
              }
              await check(route, url, sent, rest);
            },
          ),
          { numRuns: 150 },
        );
      },
      TIMEOUT_MS,
    );

    describe('afterwards', () => {
      it('the fuzzing reached the handlers: successes as well as every kind of refusal', () => {
        const statuses = [...seen.statuses.keys()];
        expect(seen.successes).toBeGreaterThan(0);
        for (const status of [200, 400, 401, 404, 415]) expect(statuses, JSON.stringify([...seen.statuses])).toContain(status);
        expect(statuses.some((status) => status === 201 || status === 204), JSON.stringify([...seen.statuses])).toBe(true);
      });

      it('the main user still works', async () => {
        expect((await world.main.client.get('/api/v1/me')).status).toBe(200);
      });
    });
  },
  { open: { poolSize: 20 } },
);
