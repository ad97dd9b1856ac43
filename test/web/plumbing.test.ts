// The plumbing the site's pages sit on: sessions, log in/out, requireUser, CSRF, flash
// messages, form bodies and rate limits, driven through app.inject() with test-only routes.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { logIn, logOut, requireUser, userOf } from '../../src/web/plugins/auth.ts';
import { formValues } from '../../src/web/forms.ts';
import { byIpAndField, rateLimit } from '../../src/web/plugins/rate-limit.ts';
import { SESSION_COOKIE, SESSION_MAX_AGE_SECONDS } from '../../src/web/plugins/sessions.ts';
import { users } from '../../src/db/schema.ts';
import { createSession } from '../../src/movr/sessions.ts';
import { buildTestApp } from '../support/app.ts';
import { createUserRow } from '../support/factories.ts';
import { TEST_SECRET_KEY } from '../support/config.ts';
import { createTestDatabase } from '../support/databases.ts';
import { BROWSER_ACCEPT, Browser, csrfFieldOf, setCookie } from './helpers.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const CSRF_MESSAGE = 'This form has expired or was not sent from MovR. Please go back, reload the page and try again.';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  database = await createTestDatabase('pglite');
});
afterAll(async () => {
  await database?.destroy();
});

/** What the test routes did, to check that refused requests did nothing. */
const done: string[] = [];

/** Routes only these tests have: the plumbing, exercised the way pages will use it. */
async function testRoutes(app: FastifyInstance): Promise<void> {
  app.get('/test/whoami', async (request) => ({ user: request.currentUser ?? null }));
  app.get('/test/csrf', async (_request, reply) => ({ token: reply.generateCsrf() }));
  app.get('/test/session', async (request) => ({ data: request.session.data() ?? null }));
  app.get('/test/protected', { preHandler: requireUser }, async (request) => ({ user: userOf(request) }));
  app.get('/test/unguarded', async (request) => ({ user: userOf(request) }));
  app.post('/test/protected', { preHandler: requireUser }, async () => {
    done.push('protected post');
    return { ok: true };
  });
  app.post('/test/login', async (request: FastifyRequest, reply: FastifyReply) => {
    const { id, city } = formValues(request.body);
    // Sessions belong to users: the user's row is made on the fly.
    await database.db.orm
      .insert(users)
      .values({ id: id ?? '', city: city ?? '', name: 'Test Rider' })
      .onConflictDoNothing();
    await logIn(request, { id: id ?? '', city: city ?? '' });
    return reply.flash('success', 'Welcome back.').redirect('/', 303);
  });
  app.post('/test/logout', async (request, reply) => {
    await logOut(request);
    return reply.flash('info', 'You are logged out.').redirect('/', 303);
  });
  app.post('/test/logout-quietly', async (request, reply) => {
    await logOut(request);
    return reply.redirect('/', 303);
  });
  app.post('/test/form', async (request, reply) => {
    const { name } = formValues(request.body);
    done.push(`form ${name}`);
    if (name === 'bad') return reply.flash('error', 'That name is taken.').redirect('/', 303);
    return reply.flash('success', `Saved ${name}.`).redirect('/', 303);
  });
  app.post('/test/echo', async (request) => ({ values: formValues(request.body) }));
  app.post('/api/test/no-csrf', async () => {
    done.push('api post');
    return { ok: true };
  });
  app.post(
    '/test/limited',
    { config: rateLimit({ max: 3, timeWindow: '1 minute', key: byIpAndField('username') }) },
    async (request) => {
      done.push(`limited ${formValues(request.body).username}`);
      return { ok: true };
    },
  );
}

/** A browser with a session: it has visited a page, so it holds a CSRF secret; returns a token. */
async function withToken(browser: Browser): Promise<string> {
  const response = await browser.get('/test/csrf');
  return (response.json() as { token: string }).token;
}

async function loggedIn(app: FastifyInstance, user = { id: '0a1b2c30-0000-4000-8000-000000000001', city: 'paris' }): Promise<Browser> {
  const browser = new Browser(app);
  const token = await withToken(browser);
  const response = await browser.postForm('/test/login', { ...user, _csrf: token });
  expect(response.statusCode).toBe(303);
  return browser;
}

describe('web plumbing', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp(database.db, { routes: testRoutes });
  });
  afterAll(async () => {
    await app?.close();
  });
  afterEach(() => {
    vi.useRealTimers();
    done.length = 0;
  });

  describe('session cookie', () => {
    it('is movr_session: HttpOnly, SameSite=Lax, Path=/, Max-Age of 7 days, not Secure outside production', async () => {
      const response = await app.inject({ url: '/test/csrf' });
      const cookie = setCookie(response, SESSION_COOKIE);
      expect(cookie).toBeDefined();
      expect(cookie?.attributes).toMatchObject({
        httponly: '',
        samesite: 'Lax',
        path: '/',
        'max-age': String(SESSION_MAX_AGE_SECONDS),
      });
      expect(SESSION_MAX_AGE_SECONDS).toBe(604800);
      expect(cookie?.attributes).not.toHaveProperty('secure');
      expect(cookie?.attributes).not.toHaveProperty('domain');
    });

    it('is Secure in production', async () => {
      const production = await buildTestApp(database.db, {
        env: { NODE_ENV: 'production', SECRET_KEY: TEST_SECRET_KEY },
        routes: testRoutes,
      });
      try {
        const cookie = setCookie(await production.inject({ url: '/test/csrf' }), SESSION_COOKIE);
        expect(cookie?.attributes).toHaveProperty('secure', '');
        expect(cookie?.attributes).toMatchObject({ httponly: '', samesite: 'Lax' });
      } finally {
        await production.close();
      }
    });

    it('is encrypted: the session data cannot be read from it', async () => {
      const browser = await loggedIn(app, { id: '0a1b2c30-0000-4000-8000-000000000123', city: 'rome' });
      const value = browser.cookies.get(SESSION_COOKIE) ?? '';
      expect(value).not.toContain('0a1b2c30-0000-4000-8000-000000000123');
      expect(Buffer.from(value.split(';')[0] ?? '', 'base64').toString('latin1')).not.toContain('0a1b2c30-0000-4000-8000-000000000123');
    });

    it('is not sent to visitors of pages that need no session', async () => {
      const response = await app.inject({ url: '/healthz' });
      expect(response.headers['set-cookie']).toBeUndefined();
      const asset = await app.inject({ url: '/static/styles.css' });
      expect(asset.headers['set-cookie']).toBeUndefined();
    });

    it('a tampered cookie is ignored: the request has a new, empty session', async () => {
      const browser = await loggedIn(app);
      expect((await browser.get('/test/whoami')).json()).toEqual({ user: { id: '0a1b2c30-0000-4000-8000-000000000001', city: 'paris' } });
      // As the browser sent it (URL-encoded), the cookie works…
      const value = browser.cookies.get(SESSION_COOKIE) ?? '';
      const original = await app.inject({ url: '/test/whoami', headers: { cookie: `${SESSION_COOKIE}=${value}` } });
      expect(original.json()).toEqual({ user: { id: '0a1b2c30-0000-4000-8000-000000000001', city: 'paris' } });
      // …and any change to it makes it worthless.
      const [cipher = '', nonce = ''] = decodeURIComponent(value).split(';');
      const flip = (text: string, at: number) => `${text.slice(0, at)}${text.charAt(at) === 'A' ? 'B' : 'A'}${text.slice(at + 1)}`;
      for (const cookie of [
        `${flip(cipher, 0)};${nonce}`,
        `${flip(cipher, 20)};${nonce}`,
        `${cipher};${flip(nonce, 3)}`,
        `${cipher.slice(0, -4)};${nonce}`,
        cipher,
        'garbage',
        'a;b',
        '',
      ]) {
        const response = await app.inject({ url: '/test/whoami', cookies: { [SESSION_COOKIE]: cookie } });
        expect(response.statusCode).toBe(200);
        expect(response.json()).toEqual({ user: null });
      }
    });

    it('a cookie made with another secret key is ignored', async () => {
      const other = await buildTestApp(database.db, { secretKey: 'a-completely-different-secret-key-0123456789', routes: testRoutes });
      try {
        const browser = await loggedIn(other);
        const cookie = browser.cookies.get(SESSION_COOKIE) ?? '';
        expect((await browser.get('/test/whoami')).json()).toEqual({ user: { id: '0a1b2c30-0000-4000-8000-000000000001', city: 'paris' } });
        const response = await app.inject({ url: '/test/whoami', headers: { cookie: `${SESSION_COOKIE}=${cookie}` } });
        expect(response.json()).toEqual({ user: null });
      } finally {
        await other.close();
      }
    });

    it('session data past its expiresAt is refused, even in a cookie that still decrypts', async () => {
      const expired = app.encodeSecureSession(
        app.createSecureSession({ user: { id: 'old', city: 'rome' }, expiresAt: Date.now() - 1000 }),
      );
      const response = await app.inject({ url: '/test/whoami', cookies: { [SESSION_COOKIE]: expired } });
      expect(response.json()).toEqual({ user: null });
      // The stale cookie is deleted.
      expect(setCookie(response, SESSION_COOKIE)?.attributes['max-age']).toBe('0');

      const noExpiry = app.encodeSecureSession(app.createSecureSession({ user: { id: 'old', city: 'rome' } }));
      const refused = await app.inject({ url: '/test/whoami', cookies: { [SESSION_COOKIE]: noExpiry } });
      expect(refused.json()).toEqual({ user: null });

      const user = await createUserRow(database.db, { city: 'rome' });
      const { token } = await createSession(database.db, user);
      const valid = app.encodeSecureSession(app.createSecureSession({ user, sid: token, expiresAt: Date.now() + DAY_MS }));
      const accepted = await app.inject({ url: '/test/whoami', cookies: { [SESSION_COOKIE]: valid } });
      expect(accepted.json()).toEqual({ user });
      // The same user without the session's token (a cookie from before sessions were kept on the server): no one.
      const tokenless = app.encodeSecureSession(app.createSecureSession({ user, expiresAt: Date.now() + DAY_MS }));
      expect((await app.inject({ url: '/test/whoami', cookies: { [SESSION_COOKIE]: tokenless } })).json()).toEqual({ user: null });
    });

    it('a session ends after 7 days without activity', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2030-01-01T00:00:00Z'));
      const browser = await loggedIn(app);
      vi.setSystemTime(new Date('2030-01-07T23:00:00Z'));
      const headers = { cookie: `${SESSION_COOKIE}=${browser.cookies.get(SESSION_COOKIE) ?? ''}` };
      const almost = await app.inject({ url: '/test/whoami', headers });
      expect(almost.json()).toEqual({ user: { id: '0a1b2c30-0000-4000-8000-000000000001', city: 'paris' } });
      vi.setSystemTime(new Date('2030-01-08T00:00:01Z'));
      const late = await app.inject({ url: '/test/whoami', headers });
      expect(late.json()).toEqual({ user: null });
    });

    it('slides the expiry forward on activity, at most once an hour', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      const start = new Date('2030-02-01T00:00:00Z').getTime();
      vi.setSystemTime(start);
      const browser = await loggedIn(app);
      const expiresAt = async () =>
        ((await browser.get('/test/session')).json() as { data: { expiresAt: number } }).data.expiresAt;
      expect(await expiresAt()).toBe(start + 7 * DAY_MS);

      // Within the hour: nothing to refresh, no new cookie.
      vi.setSystemTime(start + 30 * 60 * 1000);
      const quiet = await browser.get('/test/whoami');
      expect(setCookie(quiet, SESSION_COOKIE)).toBeUndefined();

      // After an hour: the session (and the cookie's Max-Age) runs 7 days from now.
      vi.setSystemTime(start + 2 * 60 * 60 * 1000);
      const refreshed = await browser.get('/test/whoami');
      expect(setCookie(refreshed, SESSION_COOKIE)?.attributes['max-age']).toBe(String(SESSION_MAX_AGE_SECONDS));
      expect(await expiresAt()).toBe(start + 2 * 60 * 60 * 1000 + 7 * DAY_MS);

      // More than 7 days after logging in, still logged in thanks to that activity…
      vi.setSystemTime(start + 7 * DAY_MS + 60 * 60 * 1000);
      expect((await browser.get('/test/whoami')).json()).toEqual({ user: { id: '0a1b2c30-0000-4000-8000-000000000001', city: 'paris' } });
      // …and this request slid it forward again: 7 days of inactivity from here end it.
      vi.setSystemTime(start + 14 * DAY_MS + 60 * 60 * 1000 + 1000);
      expect((await browser.get('/test/whoami')).json()).toEqual({ user: null });
    });
  });

  describe('logging in and out', () => {
    it('logIn regenerates the session: new CSRF secret, nothing kept from before', async () => {
      const browser = new Browser(app);
      const before = await withToken(browser);
      // Something planted in the session before the login (here: a flash message).
      await browser.postForm('/test/form', { name: 'x', _csrf: before });
      const oldSession = (await browser.get('/test/session')).json() as { data: Record<string, unknown> };
      expect(oldSession.data._csrf).toEqual(expect.any(String));
      expect(oldSession.data.flash).toEqual([{ kind: 'success', message: 'Saved x.' }]);

      const response = await browser.postForm('/test/login', { id: '0a1b2c30-0000-4000-8000-000000000011', city: 'boston', _csrf: before });
      expect(response.statusCode).toBe(303);
      expect(response.headers.location).toBe('/');
      const newSession = (await browser.get('/test/session')).json() as { data: Record<string, unknown> };
      expect(newSession.data.user).toEqual({ id: '0a1b2c30-0000-4000-8000-000000000011', city: 'boston' });
      expect(newSession.data.flash).toEqual([{ kind: 'success', message: 'Welcome back.' }]);
      expect(newSession.data._csrf).toBeUndefined();

      // A token from before the login is no good any more; a new one is.
      const stale = await browser.postForm('/test/form', { name: 'y', _csrf: before });
      expect(stale.statusCode).toBe(403);
      const fresh = await browser.postForm('/test/form', { name: 'z', _csrf: await withToken(browser) });
      expect(fresh.statusCode).toBe(303);
      expect(done).toEqual(['form x', 'form z']);
    });

    it('request.currentUser reflects the session, and logOut ends it', async () => {
      const browser = await loggedIn(app, { id: '0a1b2c30-0000-4000-8000-000000000007', city: 'seattle' });
      expect((await browser.get('/test/whoami')).json()).toEqual({ user: { id: '0a1b2c30-0000-4000-8000-000000000007', city: 'seattle' } });

      const response = await browser.postForm('/test/logout', { _csrf: await withToken(browser) });
      expect(response.statusCode).toBe(303);
      expect((await browser.get('/test/whoami')).json()).toEqual({ user: null });
      const page = await browser.get('/');
      expect(page.body).toContain('You are logged out.');
    });

    it('logging out with nothing left in the session deletes the cookie', async () => {
      const browser = await loggedIn(app);
      const response = await browser.postForm('/test/logout-quietly', { _csrf: await withToken(browser) });
      expect(setCookie(response, SESSION_COOKIE)?.attributes['max-age']).toBe('0');
      expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
    });

    it('a session user of the wrong shape is no user', async () => {
      for (const user of [{ id: 1, city: 'rome' }, { id: 'x' }, 'someone', { id: '', city: 'rome' }]) {
        const cookie = app.encodeSecureSession(app.createSecureSession({ user, expiresAt: Date.now() + DAY_MS }));
        const response = await app.inject({ url: '/test/whoami', cookies: { [SESSION_COOKIE]: cookie } });
        expect(response.json()).toEqual({ user: null });
      }
    });
  });

  describe('requireUser', () => {
    it('sends visitors to the login page with the page they asked for as next', async () => {
      const response = await app.inject({ url: '/test/protected?page=2&sort=new', headers: { accept: BROWSER_ACCEPT } });
      expect(response.statusCode).toBe(303);
      expect(response.headers.location).toBe(`/login?next=${encodeURIComponent('/test/protected?page=2&sort=new')}`);
    });

    it('answers JSON clients 401', async () => {
      const response = await app.inject({ url: '/test/protected', headers: { accept: 'application/json' } });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual({ error: { code: 'unauthorized', message: 'Please log in to continue.' } });
    });

    it('sends a form POST to the login page alone, and does nothing', async () => {
      const browser = new Browser(app);
      const response = await browser.postForm('/test/protected', { _csrf: await withToken(browser) });
      expect(response.statusCode).toBe(303);
      expect(response.headers.location).toBe('/login');
      expect(done).toEqual([]);
    });

    it('userOf() is the user behind requireUser, and a 401 where there is none', async () => {
      const response = await app.inject({ url: '/test/unguarded', headers: { accept: 'application/json' } });
      expect(response.statusCode).toBe(401);
      const browser = await loggedIn(app);
      expect((await browser.get('/test/unguarded')).json()).toEqual({ user: { id: '0a1b2c30-0000-4000-8000-000000000001', city: 'paris' } });
    });

    it('lets a logged-in user through', async () => {
      const browser = await loggedIn(app);
      const response = await browser.get('/test/protected');
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ user: { id: '0a1b2c30-0000-4000-8000-000000000001', city: 'paris' } });
      const post = await browser.postForm('/test/protected', { _csrf: await withToken(browser) });
      expect(post.statusCode).toBe(200);
      expect(done).toEqual(['protected post']);
    });
  });

  describe('CSRF', () => {
    it('a form without a token is refused with 403 csrf_invalid, and nothing is done', async () => {
      const browser = new Browser(app);
      await withToken(browser);
      const response = await browser.postForm('/test/form', { name: 'forged' });
      expect(response.statusCode).toBe(403);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.body).toContain(CSRF_MESSAGE);
      expect(done).toEqual([]);
    });

    it('a wrong token, a token of another session, or no session at all are refused', async () => {
      const victim = new Browser(app);
      await withToken(victim);
      const attacker = new Browser(app);
      const attackerToken = await withToken(attacker);
      for (const token of ['', 'nonsense', attackerToken, `${attackerToken}x`]) {
        const response = await victim.postForm('/test/form', { name: 'forged', _csrf: token });
        expect(response.statusCode).toBe(403);
      }
      // No cookie at all (the token alone proves nothing).
      const bare = await app.inject({
        method: 'POST',
        url: '/test/form',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: BROWSER_ACCEPT },
        payload: new URLSearchParams({ name: 'forged', _csrf: attackerToken }).toString(),
      });
      expect(bare.statusCode).toBe(403);
      expect(bare.body).toContain(CSRF_MESSAGE);
      expect(done).toEqual([]);
    });

    it('JSON clients get the csrf_invalid error as JSON', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/test/form',
        headers: { accept: 'application/json' },
        payload: { name: 'forged' },
      });
      expect(response.statusCode).toBe(403);
      expect(response.json()).toEqual({ error: { code: 'csrf_invalid', message: CSRF_MESSAGE } });
    });

    it('a valid token in the _csrf field or the x-csrf-token header is accepted', async () => {
      const browser = new Browser(app);
      const token = await withToken(browser);
      const form = await browser.postForm('/test/form', { name: 'one', _csrf: token });
      expect(form.statusCode).toBe(303);
      const header = await browser.request({
        method: 'POST',
        url: '/test/form',
        headers: { 'x-csrf-token': token, 'content-type': 'application/json' },
        payload: JSON.stringify({ name: 'two' }),
      });
      expect(header.statusCode).toBe(303);
      expect(done).toEqual(['form one', 'form two']);
    });

    it('every rendered page carries a token that the forms can use', async () => {
      const browser = new Browser(app);
      const page = await browser.get('/');
      const token = csrfFieldOf((await browser.get('/no/such/page')).body) ?? csrfFieldOf(page.body);
      // Logged out, the layout has no form; the token is in the context regardless (see the nav test).
      expect(token).toBeUndefined();
      const user = await loggedIn(app);
      const home = await user.get('/');
      const fromPage = csrfFieldOf(home.body);
      expect(fromPage).toMatch(/\S{20,}/);
      const response = await user.postForm('/test/form', { name: 'from page', _csrf: fromPage ?? '' });
      expect(response.statusCode).toBe(303);
    });

    it('does not apply to the JSON API under /api/', async () => {
      const response = await app.inject({ method: 'POST', url: '/api/test/no-csrf', payload: {} });
      expect(response.statusCode).toBe(200);
      expect(done).toEqual(['api post']);
    });
  });

  describe('flash messages', () => {
    it('are shown once, on the next page rendered', async () => {
      const browser = new Browser(app);
      const token = await withToken(browser);
      await browser.postForm('/test/form', { name: 'bike', _csrf: token });
      const first = await browser.get('/');
      expect(first.body).toMatch(/<div class="flash flash--success" role="status">\s*<p>Saved bike\.<\/p>/);
      const second = await browser.get('/');
      expect(second.body).not.toContain('Saved bike.');
      expect(second.body).not.toContain('class="flash ');
    });

    it('errors are announced as alerts, and several messages queue up', async () => {
      const browser = new Browser(app);
      const token = await withToken(browser);
      await browser.postForm('/test/form', { name: 'bad', _csrf: token });
      await browser.postForm('/test/form', { name: 'good', _csrf: token });
      const page = await browser.get('/');
      expect(page.body).toMatch(/<div class="flash flash--error" role="alert">\s*<p>That name is taken\.<\/p>/);
      expect(page.body.indexOf('That name is taken.')).toBeLessThan(page.body.indexOf('Saved good.'));
    });

    it('are escaped', async () => {
      const browser = new Browser(app);
      const token = await withToken(browser);
      await browser.postForm('/test/form', { name: '<script>alert(1)</script>', _csrf: token });
      const page = await browser.get('/');
      expect(page.body).toContain('Saved &lt;script&gt;alert(1)&lt;/script&gt;.');
      expect(page.body).not.toContain('<script>');
    });

    it('are not consumed by JSON responses', async () => {
      const browser = new Browser(app);
      await browser.postForm('/test/form', { name: 'kept', _csrf: await withToken(browser) });
      await browser.get('/test/whoami');
      expect((await browser.get('/')).body).toContain('Saved kept.');
    });
  });

  describe('layout', () => {
    it('offers Log in and Sign up to visitors', async () => {
      const html = (await app.inject({ url: '/', headers: { accept: BROWSER_ACCEPT } })).body;
      const nav = /<nav class="site-nav"[\s\S]*?<\/nav>/.exec(html)?.[0] ?? '';
      expect(nav).toContain('href="/login"');
      expect(nav).toContain('href="/signup"');
      expect(nav).toContain('>Cities<');
      expect(nav).not.toContain('My rides');
      expect(nav).not.toContain('Log out');
    });

    it('offers the member pages and a log-out form (POST, with a token) to logged-in users', async () => {
      const browser = await loggedIn(app);
      const html = (await browser.get('/')).body;
      const nav = /<nav class="site-nav"[\s\S]*?<\/nav>/.exec(html)?.[0] ?? '';
      for (const [href, label] of [
        ['/', 'Cities'],
        ['/rides', 'My rides'],
        ['/vehicles/mine', 'My vehicles'],
        ['/promo-codes', 'Promo codes'],
        ['/profile', 'Profile'],
      ]) {
        expect(nav).toMatch(new RegExp(`href="${href}"[^>]*>${label}<`));
      }
      expect(nav).toMatch(/<form class="site-nav__form" method="post" action="\/logout">/);
      expect(nav).toMatch(/<input type="hidden" name="_csrf" value="[^"]+">/);
      expect(nav).toContain('<button class="site-nav__button" type="submit">Log out</button>');
      expect(nav).not.toContain('href="/login"');
      expect(nav).toContain('href="/" aria-current="page"');
    });

    it('error pages show the same navigation', async () => {
      const browser = await loggedIn(app);
      const response = await browser.get('/no/such/page');
      expect(response.statusCode).toBe(404);
      expect(response.body).toContain('Log out');
      expect(csrfFieldOf(response.body)).toBeDefined();
    });

    it('pages are never cached', async () => {
      const response = await app.inject({ url: '/', headers: { accept: BROWSER_ACCEPT } });
      expect(response.headers['cache-control']).toBe('no-store');
    });
  });

  describe('form bodies', () => {
    it('parses application/x-www-form-urlencoded', async () => {
      const browser = new Browser(app);
      const response = await browser.postForm('/test/echo', {
        _csrf: await withToken(browser),
        name: 'Zoë Ünïcode & co',
        city: 'new york',
      });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ values: { name: 'Zoë Ünïcode & co', city: 'new york' } });
    });

    it('refuses bodies over 100 kB with 413', async () => {
      const browser = new Browser(app);
      const response = await browser.postForm('/test/echo', {
        _csrf: await withToken(browser),
        name: 'x'.repeat(120 * 1024),
      });
      expect(response.statusCode).toBe(413);
      expect(response.body).toContain('413');
    });
  });

  describe('rate limits', () => {
    it('answers 429 with Retry-After once a route limit is reached, per IP and field', async () => {
      const browser = new Browser(app);
      const token = await withToken(browser);
      for (let i = 0; i < 3; i++) {
        const ok = await browser.postForm('/test/limited', { username: 'Ada', _csrf: token });
        expect(ok.statusCode).toBe(200);
      }
      const limited = await browser.postForm('/test/limited', { username: ' ada ', _csrf: token });
      expect(limited.statusCode).toBe(429);
      expect(limited.headers['content-type']).toBe('text/html; charset=utf-8');
      const retryAfter = Number(limited.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(limited.body).toContain('Too many attempts. Please wait');
      expect(done).toEqual(['limited Ada', 'limited Ada', 'limited Ada']);

      // Another username has its own allowance.
      expect((await browser.postForm('/test/limited', { username: 'grace', _csrf: token })).statusCode).toBe(200);

      const json = await browser.request({
        method: 'POST',
        url: '/test/limited',
        headers: { accept: 'application/json', 'x-csrf-token': token },
        payload: { username: 'ada' },
      });
      expect(json.statusCode).toBe(429);
      expect(json.json()).toEqual({ error: { code: 'too_many_requests', message: expect.stringContaining('Too many') } });
      expect(json.headers['retry-after']).toBeDefined();
    });

    it('leaves routes without a limit alone', async () => {
      for (let i = 0; i < 30; i++) expect((await app.inject({ url: '/test/whoami' })).statusCode).toBe(200);
    });
  });
});
