// POST /auth/register, /auth/login, /auth/logout; bearer tokens (expiry, revocation,
// tampering) and the web site's session cookie as credentials.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../src/movr/api-tokens.ts';
import { SESSION_COOKIE } from '../../src/web/plugins/sessions.ts';
import { buildTestApp } from '../support/app.ts';
import { TEST_PASSWORD, VISA, uniqueUsername } from '../support/factories.ts';
import { countRows, snapshot } from '../support/snapshot.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { ApiClient, TOKEN_KEY, errorCode, registeredUser } from './helpers.ts';
import { Browser, csrfFieldOf } from '../web/helpers.ts';

describeEachDatabase(
  'API authentication',
  (t) => {
    let app: FastifyInstance;
    beforeAll(async () => {
      app = await buildTestApp(t.db);
    });
    afterAll(async () => {
      await app?.close();
    });

    describe('POST /auth/register', () => {
      it('creates a user with credentials: 201 {user}, card masked, no password anywhere', async () => {
        const client = new ApiClient(app);
        const username = uniqueUsername('Ada');
        const response = await client.post('/api/v1/auth/register', {
          username,
          password: TEST_PASSWORD,
          name: 'Ada Lovelace',
          city: 'new york',
          address: '1 Main Street',
          card_number: VISA,
        });
        expect(response.status).toBe(201);
        expect(response.body).toEqual({
          user: {
            id: expect.any(String),
            city: 'new york',
            username: username.toLowerCase(),
            name: 'Ada Lovelace',
            address: '1 Main Street',
            masked_card: '**** **** **** 1111',
          },
        });
        expect(response.raw.body).not.toContain(TEST_PASSWORD);
        expect(response.raw.body).not.toContain('4111 1111 1111 1111');
        expect(response.raw.body).not.toMatch(/argon2|hash/i);
        expect(await countRows(t.db, 'SELECT count(*) AS n FROM user_credentials WHERE username = $1', [username.toLowerCase()])).toBe(1);
      });

      it('address is optional; unknown fields are dropped', async () => {
        const response = await new ApiClient(app).post('/api/v1/auth/register', {
          username: uniqueUsername(),
          password: TEST_PASSWORD,
          name: 'Grace',
          city: 'paris',
          is_admin: true,
          id: '00000000-0000-4000-8000-000000000000',
        });
        expect(response.status).toBe(201);
        expect(response.body.user).toMatchObject({ city: 'paris', address: null, masked_card: null });
        expect(response.body.user.id).not.toBe('00000000-0000-4000-8000-000000000000');
      });

      it('400 validation_failed names every bad field with the API’s names, and creates nothing', async () => {
        const before = await snapshot(t.db);
        const response = await new ApiClient(app).post('/api/v1/auth/register', {
          username: 'x',
          password: 'short',
          name: '',
          city: 'atlantis',
          card_number: '4111 1111 1111 1112',
        });
        expect(response.status).toBe(400);
        expect(errorCode(response)).toBe('validation_failed');
        const paths = response.body.error.fields.map((field: { path: string }) => field.path).sort();
        expect(paths).toEqual(['card_number', 'city', 'name', 'password', 'username']);
        expect(response.body.error.fields.every((field: { in?: string }) => field.in === 'body')).toBe(true);
        expect(await snapshot(t.db)).toEqual(before);
      });

      it('400 for wrong types and missing fields (zod), 415 for a form body', async () => {
        const client = new ApiClient(app);
        const wrongTypes = await client.post('/api/v1/auth/register', { username: 42, password: ['x'], name: null, city: {} });
        expect(wrongTypes.status).toBe(400);
        expect(errorCode(wrongTypes)).toBe('validation_failed');
        expect(wrongTypes.body.error.fields.map((field: { path: string }) => field.path).sort()).toEqual([
          'city',
          'name',
          'password',
          'username',
        ]);
        const form = await client.request('POST', '/api/v1/auth/register', {
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          raw: `username=${uniqueUsername()}&password=${TEST_PASSWORD}&name=A&city=paris`,
        });
        expect(form.status).toBe(415);
        expect(errorCode(form)).toBe('unsupported_media_type');
      });

      it('409 username_taken, case-insensitively', async () => {
        const username = uniqueUsername('Taken');
        const client = new ApiClient(app);
        const body = { username, password: TEST_PASSWORD, name: 'First', city: 'rome' };
        expect((await client.post('/api/v1/auth/register', body)).status).toBe(201);
        const before = await snapshot(t.db);
        const again = await client.post('/api/v1/auth/register', { ...body, username: username.toUpperCase(), name: 'Second' });
        expect(again.status).toBe(409);
        expect(errorCode(again)).toBe('username_taken');
        expect(await snapshot(t.db)).toEqual(before);
      });
    });

    describe('POST /auth/login', () => {
      it('returns a signed, expiring bearer token and the user', async () => {
        const user = await registeredUser(app, { city: 'boston', name: 'Bo' });
        const login = await new ApiClient(app).post('/api/v1/auth/login', { username: user.username?.toUpperCase(), password: TEST_PASSWORD });
        expect(login.status).toBe(200);
        expect(login.body).toMatchObject({ token_type: 'Bearer', user: { id: user.id, city: 'boston', name: 'Bo' } });
        expect(login.body.token).toMatch(/^movr_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
        const expiresIn = Date.parse(login.body.expires_at) - Date.now();
        expect(expiresIn).toBeGreaterThan(23 * 3600_000);
        expect(expiresIn).toBeLessThanOrEqual(24 * 3600_000);
        const me = await new ApiClient(app, { token: login.body.token }).get('/api/v1/me');
        expect(me.status).toBe(200);
        expect(me.body.user.id).toBe(user.id);
      });

      it('401 invalid_credentials with WWW-Authenticate for a wrong password or an unknown user', async () => {
        const user = await registeredUser(app);
        const client = new ApiClient(app);
        for (const body of [
          { username: user.username, password: 'Wrong-password-123' },
          { username: uniqueUsername('nobody'), password: TEST_PASSWORD },
        ]) {
          const response = await client.post('/api/v1/auth/login', body);
          expect(response.status).toBe(401);
          expect(errorCode(response)).toBe('invalid_credentials');
          expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
        }
      });

      it('429 after 10 failures per username in 5 minutes, from any address; other usernames are unaffected', async () => {
        const user = await registeredUser(app);
        const client = new ApiClient(app);
        for (let i = 0; i < 10; i++) {
          expect((await client.post('/api/v1/auth/login', { username: user.username, password: `Wrong-password-${i}` })).status).toBe(401);
        }
        const limited = await client.post('/api/v1/auth/login', { username: ` ${user.username?.toUpperCase()} `, password: TEST_PASSWORD });
        expect(limited.status).toBe(429);
        expect(errorCode(limited)).toBe('too_many_requests');
        const retryAfter = Number(limited.headers['retry-after']);
        expect(retryAfter).toBeGreaterThan(0);
        expect(retryAfter).toBeLessThanOrEqual(300);
        // Another username from the same address has its own allowance; the same username from
        // another address does not (the limit is the account's, not the address's).
        expect((await client.post('/api/v1/auth/login', { username: 'someone-else', password: TEST_PASSWORD })).status).toBe(401);
        expect((await new ApiClient(app).post('/api/v1/auth/login', { username: user.username, password: TEST_PASSWORD })).status).toBe(429);
      });
    });

    describe('bearer tokens', () => {
      it('401 unauthenticated with WWW-Authenticate: Bearer when there are no credentials', async () => {
        const response = await new ApiClient(app).get('/api/v1/me');
        expect(response.status).toBe(401);
        expect(errorCode(response)).toBe('unauthenticated');
        expect(response.headers['www-authenticate']).toMatch(/^Bearer realm="MovR"/);
      });

      it('refuses tampered, foreign, malformed and non-Bearer tokens: 401 invalid_token', async () => {
        const user = await registeredUser(app);
        const [payload = '', signature = ''] = user.token.split('.');
        const flip = (text: string, at: number) => `${text.slice(0, at)}${text.charAt(at) === 'A' ? 'B' : 'A'}${text.slice(at + 1)}`;
        const forged = await issueToken(t.db, { city: user.city, id: user.id }, Buffer.alloc(32, 7));
        const cases = [
          `Bearer ${flip(payload, 10)}.${signature}`,
          `Bearer ${payload}.${flip(signature, 5)}`,
          `Bearer ${forged.token}`,
          `Bearer ${user.token}x`,
          'Bearer movr_',
          'Bearer',
          `Basic ${Buffer.from(`${user.username}:${TEST_PASSWORD}`).toString('base64')}`,
          `Token ${user.token}`,
        ];
        for (const authorization of cases) {
          const response = await new ApiClient(app).get('/api/v1/me', { headers: { authorization } });
          expect(response.status, authorization).toBe(401);
          expect(errorCode(response), authorization).toBe('invalid_token');
          expect(response.headers['www-authenticate'], authorization).toMatch(/^Bearer realm="MovR", error="invalid_(token|request)"/);
        }
        // The scheme is case-insensitive.
        expect((await new ApiClient(app).get('/api/v1/me', { headers: { authorization: `bearer ${user.token}` } })).status).toBe(200);
      });

      it('an expired token is refused', async () => {
        const user = await registeredUser(app);
        const expired = await issueToken(t.db, user, TOKEN_KEY, { now: new Date(Date.now() - 25 * 3600_000) });
        const response = await new ApiClient(app, { token: expired.token }).get('/api/v1/me');
        expect(response.status).toBe(401);
        expect(errorCode(response)).toBe('invalid_token');
      });

      it('POST /auth/logout: 204, the token is revoked, other tokens of the user still work', async () => {
        const user = await registeredUser(app);
        const other = await new ApiClient(app).post('/api/v1/auth/login', { username: user.username, password: TEST_PASSWORD });
        const logout = await user.client.post('/api/v1/auth/logout');
        expect(logout.status).toBe(204);
        expect(logout.raw.body).toBe('');
        const after = await user.client.get('/api/v1/me');
        expect(after.status).toBe(401);
        expect(errorCode(after)).toBe('invalid_token');
        expect((await user.client.post('/api/v1/auth/logout')).status).toBe(401);
        expect((await new ApiClient(app, { token: other.body.token }).get('/api/v1/me')).status).toBe(200);
      });

      it('POST /auth/logout accepts an empty JSON body, refuses a form body, and needs credentials', async () => {
        const user = await registeredUser(app);
        const form = await user.client.request('POST', '/api/v1/auth/logout', {
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          raw: '',
        });
        expect(form.status).toBe(415);
        expect((await user.client.get('/api/v1/me')).status).toBe(200);
        const empty = await user.client.request('POST', '/api/v1/auth/logout', { headers: { 'content-type': 'application/json' }, raw: '' });
        expect(empty.status).toBe(204);
        const anonymous = await new ApiClient(app).post('/api/v1/auth/logout');
        expect(anonymous.status).toBe(401);
        expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer/);
      });
    });

    describe('the session cookie', () => {
      async function browserLoggedIn(username: string): Promise<{ browser: Browser; cookie: string }> {
        const browser = new Browser(app);
        const page = await browser.get('/login');
        const csrf = csrfFieldOf(page.body);
        expect(csrf).toBeDefined();
        const login = await browser.postForm('/login', { username, password: TEST_PASSWORD, _csrf: csrf ?? '' });
        expect(login.statusCode).toBe(303);
        const value = browser.cookies.get(SESSION_COOKIE);
        expect(value).toBeDefined();
        return { browser, cookie: `${SESSION_COOKIE}=${value}` };
      }

      it('a browser logged in on the web site can call the API with its cookie, without a CSRF token', async () => {
        const user = await registeredUser(app, { name: 'Cookie Monster' });
        const { cookie } = await browserLoggedIn(user.username ?? '');
        const client = new ApiClient(app, { cookie });
        const me = await client.get('/api/v1/me');
        expect(me.status).toBe(200);
        expect(me.body.user).toMatchObject({ id: user.id, name: 'Cookie Monster' });
        const patched = await client.patch('/api/v1/me', { address: '5 Cookie Lane' });
        expect(patched.status).toBe(200);
        expect(patched.body.user.address).toBe('5 Cookie Lane');
      });

      it('a form-encoded (cross-site form) request with the cookie is refused with 415 and changes nothing', async () => {
        const user = await registeredUser(app);
        const { cookie } = await browserLoggedIn(user.username ?? '');
        const client = new ApiClient(app, { cookie });
        const before = await snapshot(t.db);
        for (const contentType of ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/plain']) {
          const response = await client.request('PATCH', '/api/v1/me', { headers: { 'content-type': contentType }, raw: 'name=Mallory' });
          expect(response.status, contentType).toBe(415);
          const deletion = await client.request('DELETE', '/api/v1/me', { headers: { 'content-type': contentType }, raw: '' });
          expect(deletion.status, contentType).toBe(415);
        }
        expect(await snapshot(t.db)).toEqual(before);
        expect((await client.get('/api/v1/me')).status).toBe(200);
      });

      it('cookie-authenticated changes from another origin are refused (403 cross_site_request); tokens are not affected', async () => {
        const user = await registeredUser(app);
        const { cookie } = await browserLoggedIn(user.username ?? '');
        const client = new ApiClient(app, { cookie });
        const before = await snapshot(t.db);
        const foreign: Record<string, string>[] = [
          { 'sec-fetch-site': 'cross-site' },
          { 'sec-fetch-site': 'same-site' },
          { origin: 'https://evil.example' },
          { origin: 'null' },
        ];
        for (const headers of foreign) {
          const patch = await client.patch('/api/v1/me', { name: 'Mallory' }, { headers });
          expect(patch.status, JSON.stringify(headers)).toBe(403);
          expect(errorCode(patch)).toBe('cross_site_request');
          expect((await client.post('/api/v1/auth/logout', undefined, { headers })).status).toBe(403);
        }
        expect(await snapshot(t.db)).toEqual(before);
        // Same origin, as the site's own pages send them.
        expect((await client.patch('/api/v1/me', { name: 'Same Origin' }, { headers: { 'sec-fetch-site': 'same-origin' } })).status).toBe(200);
        expect((await client.patch('/api/v1/me', { name: 'Same Host' }, { headers: { origin: 'http://localhost:80' } })).status).toBe(200);
        // Reading is not changing.
        expect((await client.get('/api/v1/me', { headers: { 'sec-fetch-site': 'cross-site' } })).status).toBe(200);
        // A bearer token is never sent by a browser on its own: no origin check.
        const patched = await user.client.patch('/api/v1/me', { name: 'Token' }, { headers: { 'sec-fetch-site': 'cross-site' } });
        expect(patched.status).toBe(200);
      });

      it('POST /auth/logout with the cookie ends the session', async () => {
        const user = await registeredUser(app);
        const { cookie } = await browserLoggedIn(user.username ?? '');
        const client = new ApiClient(app, { cookie });
        const logout = await client.post('/api/v1/auth/logout');
        expect(logout.status).toBe(204);
        const cleared = logout.raw.cookies.find((c) => c.name === SESSION_COOKIE);
        expect(cleared?.value === '' || cleared?.maxAge === 0 || (cleared?.expires?.getTime() ?? Date.now()) < Date.now()).toBe(true);
      });

      it('a token that was sent is checked even when a valid cookie comes along', async () => {
        const user = await registeredUser(app);
        const { cookie } = await browserLoggedIn(user.username ?? '');
        const response = await new ApiClient(app, { cookie, token: 'movr_bogus.token' }).get('/api/v1/me');
        expect(response.status).toBe(401);
        expect(errorCode(response)).toBe('invalid_token');
      });
    });
  },
  { open: { poolSize: 20 } },
);
