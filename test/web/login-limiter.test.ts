// The one log-in and sign-up limiter: per username (shared by the site and the API, from any
// address, impossible to evict), per address across usernames, per address for sign-up; in
// memory, in Redis shared by two MovR processes, and falling back to memory while Redis is down.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { LOGIN_ATTEMPTS_PER_ADDRESS, LOGIN_FAILURES_PER_USERNAME, SIGN_UPS_PER_ADDRESS } from '../../src/movr/rules.ts';
import { TooManyRequestsError } from '../../src/web/errors.ts';
import { CountersFullError, LoginLimiter, MAX_IN_FLIGHT_PER_ADDRESS, MemoryCounterStore, openLoginLimiter } from '../../src/web/login-limiter.ts';
import { ApiClient, uniqueIp } from '../api/helpers.ts';
import { buildTestApp } from '../support/app.ts';
import { startMovr } from '../support/cli.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { TEST_PASSWORD, createUser, uniqueUsername } from '../support/factories.ts';
import { deleteRedisKeys, describeWithRedis, testRedisPrefix, testRedisUrl } from '../support/redis.ts';
import { Browser, formTokenOf } from './helpers.ts';

const silent = pino({ level: 'silent' });
const LIMIT = { max: 3, windowSeconds: 60 };

describe('MemoryCounterStore', () => {
  it('counts per key in fixed windows', async () => {
    let now = 0;
    const store = new MemoryCounterStore(10, () => now);
    expect(await store.increment('a', LIMIT)).toEqual({ count: 1, msLeft: 60_000 });
    now = 1000;
    expect(await store.increment('a', LIMIT)).toEqual({ count: 2, msLeft: 59_000 });
    expect(await store.peek('a', LIMIT)).toEqual({ count: 2, msLeft: 59_000 });
    expect(await store.peek('b', LIMIT)).toEqual({ count: 0, msLeft: 0 });
    now = 60_000;
    expect(await store.increment('a', LIMIT)).toEqual({ count: 1, msLeft: 60_000 });
  });

  it('when full of live counters, refuses new keys (fails closed) rather than forget one', async () => {
    let now = 0;
    const store = new MemoryCounterStore(3, () => now);
    for (const key of ['victim', 'x', 'y']) await store.increment(key, LIMIT);
    await expect(store.increment('z', LIMIT)).rejects.toBeInstanceOf(CountersFullError);
    await expect(store.peek('z', LIMIT)).rejects.toBeInstanceOf(CountersFullError);
    // The victim's counter is still there and still counts.
    expect((await store.increment('victim', LIMIT)).count).toBe(2);
    // Expired counters make room.
    now = 61_000;
    expect((await store.increment('z', LIMIT)).count).toBe(1);
    expect(store.size).toBeLessThanOrEqual(3);
  });

  it('a spray of other usernames cannot reset a locked username: the limiter answers busy, not "go ahead"', async () => {
    const limiter = new LoginLimiter(undefined, new MemoryCounterStore(50), silent, {
      failuresPerUsername: LIMIT,
      attemptsPerAddress: { max: 1_000_000, windowSeconds: 60 },
      signUpsPerAddress: LIMIT,
    });
    for (let i = 0; i < LIMIT.max; i++) await limiter.failedLogIn('victim');
    await expect(limiter.beforeLogIn('10.0.0.1', 'victim')).rejects.toBeInstanceOf(TooManyRequestsError);
    const outcomes = new Set<string>();
    for (let i = 0; i < 200; i++) {
      try {
        await limiter.logIn(`10.0.1.${i % 250}`, `random-${i}`, async () => {
          throw new (await import('../../src/movr/errors.ts')).AuthenticationError('no', 'invalid_credentials');
        });
      } catch (error) {
        outcomes.add((error as Error).name);
      }
    }
    expect(outcomes).toContain('CountersFullError');
    await expect(limiter.beforeLogIn('10.0.0.1', 'victim')).rejects.toBeInstanceOf(TooManyRequestsError);
  });
});

describeEachDatabase('the log-in limiter through the site and the API', (t) => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp(t.db);
  });
  afterAll(async () => {
    await app?.close();
  });

  it(`site and API share one per-username limit (${LOGIN_FAILURES_PER_USERNAME.max} failures), from any address`, async () => {
    const user = await createUser(t.db);
    const username = user.username ?? '';
    const half = LOGIN_FAILURES_PER_USERNAME.max / 2;
    const browser = new Browser(app);
    const csrf = await formTokenOf(browser, '/login');
    for (let i = 0; i < half; i++) {
      expect((await browser.postForm('/login', { username, password: `wrong-${i}-password`, _csrf: csrf })).statusCode).toBe(401);
    }
    for (let i = 0; i < half; i++) {
      expect((await new ApiClient(app).post('/api/v1/auth/login', { username, password: `wrong-${i}-password` })).status).toBe(401);
    }
    // The right password, from a new address, on either: refused until the window is over.
    const api = await new ApiClient(app).post('/api/v1/auth/login', { username: username.toUpperCase(), password: TEST_PASSWORD });
    expect(api.status).toBe(429);
    expect(api.body.error.code).toBe('too_many_requests');
    expect(Number(api.headers['retry-after'])).toBeGreaterThan(0);
    const site = await new Browser(app).request({
      method: 'POST',
      url: '/login',
      remoteAddress: uniqueIp(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `movr_session=${browser.cookies.get('movr_session') ?? ''}` },
      payload: new URLSearchParams({ username, password: TEST_PASSWORD, _csrf: csrf }).toString(),
    });
    expect(site.statusCode).toBe(429);
    expect(site.headers['content-security-policy']).toBeDefined();
  });

  it(`one address may try ${LOGIN_ATTEMPTS_PER_ADDRESS.max} log-ins in a window, whatever the usernames; another address is not affected`, async () => {
    const sprayer = new ApiClient(app);
    const statuses: number[] = [];
    for (let i = 0; i < LOGIN_ATTEMPTS_PER_ADDRESS.max + 2; i++) {
      statuses.push((await sprayer.post('/api/v1/auth/login', { username: uniqueUsername('spray'), password: 'Whatever-password-1' })).status);
    }
    expect(statuses.slice(0, LOGIN_ATTEMPTS_PER_ADDRESS.max).every((status) => status === 401)).toBe(true);
    expect(statuses.slice(LOGIN_ATTEMPTS_PER_ADDRESS.max)).toEqual([429, 429]);
    const user = await createUser(t.db);
    expect((await new ApiClient(app).post('/api/v1/auth/login', { username: user.username, password: TEST_PASSWORD })).status).toBe(200);
  });

  it(`one address may sign up ${SIGN_UPS_PER_ADDRESS.max} accounts an hour, site and API together; refused forms do not count`, async () => {
    const ip = uniqueIp();
    const client = new ApiClient(app, { ip });
    const register = (username = uniqueUsername('signup')) =>
      client.post('/api/v1/auth/register', { username, password: TEST_PASSWORD, name: 'Signer', city: 'rome' });
    // Invalid ones (a weak password) are refused for their fields and do not count.
    for (let i = 0; i < 3; i++) {
      expect((await client.post('/api/v1/auth/register', { username: uniqueUsername(), password: 'password1234', name: 'X', city: 'rome' })).status).toBe(400);
    }
    for (let i = 0; i < SIGN_UPS_PER_ADDRESS.max - 1; i++) expect((await register()).status).toBe(201);
    const browser = new Browser(app);
    const form = await browser.request({
      method: 'POST',
      url: '/signup',
      remoteAddress: ip,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ name: 'Site Signer', city: 'rome', username: uniqueUsername('site'), password: TEST_PASSWORD, _csrf: await formTokenOf(browser, '/signup') }).toString(),
    });
    expect(form.statusCode).toBe(303);
    const refused = await register();
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('too_many_requests');
    expect((await new ApiClient(app).post('/api/v1/auth/register', { username: uniqueUsername(), password: TEST_PASSWORD, name: 'Other', city: 'rome' })).status).toBe(201);
  });
});

describeEachDatabase('MOVR_PER_ADDRESS_LOGIN_LIMITS=0', (t) => {
  it('lifts the per-address limits for load tests, and keeps the per-username one', async () => {
    const app = await buildTestApp(t.db, { env: { MOVR_PER_ADDRESS_LOGIN_LIMITS: '0' } });
    try {
      const client = new ApiClient(app);
      const statuses = new Set<number>();
      for (let i = 0; i < LOGIN_ATTEMPTS_PER_ADDRESS.max + 5; i++) {
        statuses.add((await client.post('/api/v1/auth/login', { username: uniqueUsername(), password: 'Whatever-password-1' })).status);
      }
      expect([...statuses]).toEqual([401]);
      const username = uniqueUsername();
      for (let i = 0; i < LOGIN_FAILURES_PER_USERNAME.max; i++) await client.post('/api/v1/auth/login', { username, password: 'Whatever-password-1' });
      expect((await client.post('/api/v1/auth/login', { username, password: 'Whatever-password-1' })).status).toBe(429);
    } finally {
      await app.close();
    }
  });
});

describe('the log-in limiter while Redis is down', () => {
  it('starts, answers log-ins and still limits them (in this process), and never dies of it', async () => {
    const limiter = await openLoginLimiter({ redisUrl: 'redis://127.0.0.1:1', log: silent, connectTimeoutMs: 300, limits: { failuresPerUsername: LIMIT, attemptsPerAddress: { max: 100, windowSeconds: 60 }, signUpsPerAddress: LIMIT } });
    try {
      expect(limiter.isShared).toBe(true);
      for (let i = 0; i < LIMIT.max; i++) await limiter.failedLogIn('someone');
      await expect(limiter.beforeLogIn('10.0.0.9', 'someone')).rejects.toBeInstanceOf(TooManyRequestsError);
      await expect(limiter.beforeLogIn('10.0.0.9', 'someone-else')).resolves.toBeUndefined();
    } finally {
      await limiter.close();
    }
  });
});

describeWithRedis('the log-in limiter on Redis', () => {
  const prefix = testRedisPrefix();
  afterAll(async () => {
    await deleteRedisKeys(prefix);
  });

  it('two limiters on one Redis enforce one limit', async () => {
    const open = () => openLoginLimiter({ redisUrl: testRedisUrl(), prefix: `${prefix}unit`, log: silent, limits: { failuresPerUsername: LIMIT, attemptsPerAddress: { max: 100, windowSeconds: 60 }, signUpsPerAddress: LIMIT } });
    const [a, b] = await Promise.all([open(), open()]);
    try {
      await a.failedLogIn('shared');
      await b.failedLogIn('shared');
      await expect(a.beforeLogIn('10.1.0.1', 'shared')).resolves.toBeUndefined();
      await a.failedLogIn('shared');
      await expect(b.beforeLogIn('10.1.0.2', 'SHARED ')).rejects.toBeInstanceOf(TooManyRequestsError);
      await expect(a.beforeLogIn('10.1.0.3', 'shared')).rejects.toBeInstanceOf(TooManyRequestsError);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describeWithRedis('two MovR processes on one Redis', () => {
  const prefix = testRedisPrefix();
  afterAll(async () => {
    await deleteRedisKeys(prefix);
  });

  it('enforce one per-username and one per-address limit across processes', { timeout: 240_000 }, async () => {
    const env = { DATABASE_URL: 'pglite:memory', MOVR_REDIS_URL: testRedisUrl() ?? '', MOVR_REDIS_PREFIX: prefix, MOVR_API_RATE_LIMIT: '0' };
    const servers = await Promise.all([startMovr({ env }), startMovr({ env })]);
    try {
      const [a, b] = servers.map((server) => server.url) as [string, string];
      const logIn = (base: string, username: string) =>
        fetch(new URL('/api/v1/auth/login', base), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username, password: 'Not-the-password-9' }),
        }).then((response) => response.status);
      const username = uniqueUsername('twoproc');
      const half = LOGIN_FAILURES_PER_USERNAME.max / 2;
      for (let i = 0; i < half; i++) expect(await logIn(a, username)).toBe(401);
      for (let i = 0; i < half; i++) expect(await logIn(b, username)).toBe(401);
      expect(await logIn(a, username)).toBe(429);
      expect(await logIn(b, username)).toBe(429);
      // Per address (both processes see 127.0.0.1): the attempts so far count, on either process.
      let statuses: number[] = [];
      for (let i = 0; i < LOGIN_ATTEMPTS_PER_ADDRESS.max; i++) statuses.push(await logIn(i % 2 === 0 ? a : b, uniqueUsername('addr')));
      statuses = statuses.filter((status) => status === 429);
      // 12 attempts above, so the address had 18 left of 30 in the shared window.
      expect(statuses).toHaveLength(LOGIN_FAILURES_PER_USERNAME.max + 2);
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
    }
  });
});

describeEachDatabase('bounded password hashing through the API and the site', (t) => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp(t.db);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('64 clients spraying log-ins: some get 503 busy with Retry-After, none a 500; static files and pages answer meanwhile', async () => {
    const spray = Promise.all(
      Array.from({ length: 64 }, () =>
        new ApiClient(app).post('/api/v1/auth/login', { username: uniqueUsername('spray'), password: 'Some-password-1234' }),
      ),
    );
    const css = app.inject({ url: '/static/styles.css' });
    const home = app.inject({ url: '/', headers: { accept: 'text/html' } });
    const responses = await spray;
    const statuses = responses.map((response) => response.status);
    expect(statuses.every((status) => status === 401 || status === 503)).toBe(true);
    const busy = responses.filter((response) => response.status === 503);
    expect(busy.length).toBeGreaterThan(0);
    for (const response of busy) {
      expect(response.body.error.code).toBe('busy');
      expect(response.headers['retry-after']).toBe('1');
    }
    expect((await css).statusCode).toBe(200);
    expect((await home).statusCode).toBe(200);
    // The site's log-in form says so in a page.
    const browser = new Browser(app);
    const csrf = await formTokenOf(browser, '/login');
    const flood = Array.from({ length: 40 }, () => new ApiClient(app).post('/api/v1/auth/login', { username: uniqueUsername(), password: 'Some-password-1234' }));
    const page = await browser.request({
      method: 'POST',
      url: '/login',
      remoteAddress: uniqueIp(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ username: uniqueUsername(), password: 'Some-password-1234', _csrf: csrf }).toString(),
    });
    await Promise.all(flood);
    expect([401, 503]).toContain(page.statusCode);
    if (page.statusCode === 503) {
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.headers['retry-after']).toBe('1');
    }
  });

  it(`one address has at most ${MAX_IN_FLIGHT_PER_ADDRESS} log-ins in flight: its flood cannot fill the queue, a real user gets in`, async () => {
    const user = await createUser(t.db);
    const attacker = new ApiClient(app);
    const flood = Promise.all(
      Array.from({ length: 20 }, () => attacker.post('/api/v1/auth/login', { username: uniqueUsername(), password: 'Some-password-1234' })),
    );
    const real = await new ApiClient(app).post('/api/v1/auth/login', { username: user.username, password: TEST_PASSWORD });
    const statuses = (await flood).map((response) => response.status);
    expect(real.status).toBe(200);
    expect(statuses.filter((status) => status === 401)).toHaveLength(MAX_IN_FLIGHT_PER_ADDRESS);
    expect(statuses.filter((status) => status === 503)).toHaveLength(20 - MAX_IN_FLIGHT_PER_ADDRESS);
  });
});
