// Server-side sessions through the real site and API, on both databases: a copy of a cookie
// taken before log-out, account deletion or a password change reads nothing afterwards; the
// profile lists the sessions and ends any of them; the session's row slides at most once a minute.
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { SESSION_LIFETIME_MS, SESSION_TOUCH_INTERVAL_MS, sessionId, sessionLookups } from '../../src/movr/sessions.ts';
import { SESSION_COOKIE } from '../../src/web/plugins/sessions.ts';
import { ApiClient } from '../api/helpers.ts';
import { buildTestApp } from '../support/app.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { TEST_PASSWORD, createUser } from '../support/factories.ts';
import { Browser, fieldErrorOf, formTokenOf, loggedInBrowser } from './helpers.ts';

const NEW_PASSWORD = 'Violet-Harbour-Compass-81';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

/** The browser's cookie, as a header another client (a thief) could send. */
function stolenCookie(browser: Browser): string {
  return `${SESSION_COOKIE}=${browser.cookies.get(SESSION_COOKIE) ?? ''}`;
}

/** What a request with only that cookie gets: the profile page's status and /api/v1/me's. */
async function withCookie(app: FastifyInstance, cookie: string) {
  const page = await app.inject({ url: '/profile', headers: { cookie, accept: 'text/html' } });
  const api = await new ApiClient(app, { cookie }).get('/api/v1/me');
  return { page: page.statusCode, api: api.status };
}

describeEachDatabase('server-side sessions', (t) => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp(t.db);
  });
  afterAll(async () => {
    await app?.close();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  async function sessionRows(userId: string) {
    return t.db.execute('SELECT id, user_agent, address, created_at, last_seen_at, expires_at FROM sessions WHERE user_id = $1', [userId]);
  }

  it('log-out ends the session on the server: a copy of the cookie taken before gets nothing', async () => {
    const user = await createUser(t.db);
    const browser = await loggedInBrowser(app, user.username ?? '');
    const copy = stolenCookie(browser);
    expect(await withCookie(app, copy)).toEqual({ page: 200, api: 200 });
    expect(await sessionRows(user.id)).toHaveLength(1);

    const out = await browser.postForm('/logout', { _csrf: await formTokenOf(browser, '/') });
    expect(out.statusCode).toBe(303);
    expect(await sessionRows(user.id)).toEqual([]);
    expect(await withCookie(app, copy)).toEqual({ page: 303, api: 401 });
  });

  it('the API’s POST /auth/logout with the cookie ends that session on the server too', async () => {
    const user = await createUser(t.db);
    const browser = await loggedInBrowser(app, user.username ?? '');
    const copy = stolenCookie(browser);
    const response = await new ApiClient(app, { cookie: copy }).post('/api/v1/auth/logout', undefined, { headers: { 'sec-fetch-site': 'same-origin' } });
    expect(response.status).toBe(204);
    expect(await withCookie(app, copy)).toEqual({ page: 303, api: 401 });
  });

  it('deleting the account ends every session and token: old cookies read no rides, on the site or the API', async () => {
    const user = await createUser(t.db);
    const username = user.username ?? '';
    const here = await loggedInBrowser(app, username);
    const elsewhere = stolenCookie(await loggedInBrowser(app, username));
    const token = (await new ApiClient(app).post('/api/v1/auth/login', { username, password: TEST_PASSWORD })).body.token as string;
    const deleted = await here.postForm('/profile/delete', { confirmUsername: username, _csrf: await formTokenOf(here, '/profile/delete') });
    expect(deleted.statusCode).toBe(303);
    expect(await sessionRows(user.id)).toEqual([]);
    expect((await app.inject({ url: '/rides', headers: { cookie: elsewhere, accept: 'text/html' } })).statusCode).toBe(303);
    expect((await new ApiClient(app, { cookie: elsewhere }).get('/api/v1/rides')).status).toBe(401);
    expect((await new ApiClient(app, { token }).get('/api/v1/rides')).status).toBe(401);
  });

  it('the profile lists the sessions (where, since when, this device) and ends another one', async () => {
    const user = await createUser(t.db);
    const username = user.username ?? '';
    const phone = new Browser(app);
    const login = await phone.postForm(
      '/login',
      { username, password: TEST_PASSWORD, _csrf: await formTokenOf(phone, '/login') },
      { 'user-agent': FIREFOX },
    );
    expect(login.statusCode).toBe(303);
    const laptop = await loggedInBrowser(app, username);

    const page = await laptop.get('/profile');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Where you are logged in');
    expect(page.body).toContain('Firefox on Linux');
    expect(page.body.match(/data-session="/g)).toHaveLength(2);
    expect(page.body).toMatch(/data-current="true">\s*<td>Unknown browser <strong class="badge">this device<\/strong>/);
    const rows = await sessionRows(user.id);
    expect(rows.map((row) => row.address)).toEqual(['127.0.0.1', '127.0.0.1']);
    const phoneRow = rows.find((row) => row.user_agent === FIREFOX);
    expect(phoneRow).toBeDefined();
    // The id shown is the token's hash, never the token the cookie carries.
    expect(phone.cookies.get(SESSION_COOKIE)).not.toContain(String(phoneRow?.id));

    // Ending a session needs the form's CSRF token.
    const forged = await laptop.postForm('/profile/sessions/end', { session: String(phoneRow?.id) });
    expect(forged.statusCode).toBe(403);
    expect(await sessionRows(user.id)).toHaveLength(2);

    const ended = await laptop.postForm('/profile/sessions/end', { session: String(phoneRow?.id), _csrf: await formTokenOf(laptop, '/profile') });
    expect(ended.statusCode).toBe(303);
    expect((await laptop.get('/profile')).body).toContain('That device is logged out.');
    expect((await phone.get('/profile')).statusCode).toBe(303);
    expect((await laptop.get('/profile')).statusCode).toBe(200);

    // Someone else's session id ends nothing; the current one logs this browser out.
    const other = await createUser(t.db);
    await loggedInBrowser(app, other.username ?? '');
    const [otherRow] = await sessionRows(other.id);
    await laptop.postForm('/profile/sessions/end', { session: String(otherRow?.id), _csrf: await formTokenOf(laptop, '/profile') });
    expect(await sessionRows(other.id)).toHaveLength(1);
    const [mine] = await sessionRows(user.id);
    const self = await laptop.postForm('/profile/sessions/end', { session: String(mine?.id), _csrf: await formTokenOf(laptop, '/profile') });
    expect(self.headers.location).toBe('/');
    expect((await laptop.get('/profile')).statusCode).toBe(303);
  });

  it('the API lists the sessions and ends one (404 session_not_found for anyone else’s)', async () => {
    const user = await createUser(t.db);
    const username = user.username ?? '';
    const browser = await loggedInBrowser(app, username);
    const token = (await new ApiClient(app).post('/api/v1/auth/login', { username, password: TEST_PASSWORD })).body.token as string;
    const api = new ApiClient(app, { token });
    const listed = await api.get('/api/v1/me/sessions');
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual([
      expect.objectContaining({ current: false, address: '127.0.0.1', created_at: expect.any(String), last_seen_at: expect.any(String) }),
    ]);
    const id = listed.body.items[0].id as string;
    expect((await new ApiClient(app, { cookie: stolenCookie(browser) }).get('/api/v1/me/sessions')).body.items[0].current).toBe(true);
    expect((await api.delete(`/api/v1/me/sessions/${encodeURIComponent('no-such-session')}`)).status).toBe(404);
    expect((await api.delete(`/api/v1/me/sessions/${encodeURIComponent(id)}`)).status).toBe(204);
    expect((await browser.get('/profile')).statusCode).toBe(303);
    expect((await api.delete(`/api/v1/me/sessions/${encodeURIComponent(id)}`)).body.error.code).toBe('session_not_found');
  });

  it('changing the password on the site ends every other session and token, and keeps this one', async () => {
    const user = await createUser(t.db);
    const username = user.username ?? '';
    const here = await loggedInBrowser(app, username);
    const elsewhere = stolenCookie(await loggedInBrowser(app, username));
    const token = (await new ApiClient(app).post('/api/v1/auth/login', { username, password: TEST_PASSWORD })).body.token as string;
    const csrf = await formTokenOf(here, '/profile/password');

    const wrong = await here.postForm('/profile/password', { currentPassword: 'not-my-password', newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD, _csrf: csrf });
    expect(wrong.statusCode).toBe(400);
    expect(fieldErrorOf(wrong.body, 'currentPassword')).toBe('That is not your current password.');
    const weak = await here.postForm('/profile/password', { currentPassword: TEST_PASSWORD, newPassword: 'Summer2027!', confirmPassword: 'Summer2027!', _csrf: csrf });
    expect(weak.statusCode).toBe(400);
    expect(fieldErrorOf(weak.body, 'newPassword')).toMatch(/^That password is too easy to guess\. .*Capitalize more than the first letter\./);
    const mismatch = await here.postForm('/profile/password', { currentPassword: TEST_PASSWORD, newPassword: NEW_PASSWORD, confirmPassword: 'something else', _csrf: csrf });
    expect(fieldErrorOf(mismatch.body, 'confirmPassword')).toBe('The two new passwords are not the same.');
    expect(await withCookie(app, elsewhere)).toEqual({ page: 200, api: 200 });

    const changed = await here.postForm('/profile/password', { currentPassword: TEST_PASSWORD, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD, _csrf: csrf });
    expect(changed.statusCode).toBe(303);
    expect(changed.headers.location).toBe('/profile');
    expect((await here.get('/profile')).body).toContain('Your password is changed.');
    expect(await withCookie(app, elsewhere)).toEqual({ page: 303, api: 401 });
    expect((await new ApiClient(app, { token }).get('/api/v1/me')).status).toBe(401);
    expect(await sessionRows(user.id)).toHaveLength(1);

    const login = new ApiClient(app);
    expect((await login.post('/api/v1/auth/login', { username, password: TEST_PASSWORD })).status).toBe(401);
    expect((await login.post('/api/v1/auth/login', { username, password: NEW_PASSWORD })).status).toBe(200);
  });

  it('POST /api/v1/me/password: current password required, the calling token stays, every other one ends', async () => {
    const user = await createUser(t.db);
    const username = user.username ?? '';
    const logInToken = async () =>
      (await new ApiClient(app).post('/api/v1/auth/login', { username, password: TEST_PASSWORD })).body.token as string;
    const mine = new ApiClient(app, { token: await logInToken() });
    const other = new ApiClient(app, { token: await logInToken() });
    const browser = stolenCookie(await loggedInBrowser(app, username));

    const wrong = await mine.post('/api/v1/me/password', { current_password: 'nope-nope-nope', new_password: NEW_PASSWORD });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.fields).toEqual([{ in: 'body', path: 'current_password', message: 'That is not your current password.' }]);
    const weak = await mine.post('/api/v1/me/password', { current_password: TEST_PASSWORD, new_password: 'letmeinletmein' });
    expect(weak.status).toBe(400);
    expect(weak.body.error.fields[0]).toMatchObject({ path: 'new_password', message: expect.stringMatching(/too easy to guess.*[Rr]epeat/) });

    expect((await mine.post('/api/v1/me/password', { current_password: TEST_PASSWORD, new_password: NEW_PASSWORD })).status).toBe(204);
    expect((await mine.get('/api/v1/me')).status).toBe(200);
    expect((await other.get('/api/v1/me')).status).toBe(401);
    expect(await withCookie(app, browser)).toEqual({ page: 303, api: 401 });
  });

  it('a session slides forward at most once a minute, and is refused once its row has expired', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = new Date('2031-03-01T10:00:00Z').getTime();
    vi.setSystemTime(start);
    const user = await createUser(t.db);
    const browser = await loggedInBrowser(app, user.username ?? '');
    const row = async () => (await sessionRows(user.id))[0] as { last_seen_at: Date; expires_at: Date } | undefined;
    expect((await row())?.last_seen_at).toEqual(new Date(start));
    expect((await row())?.expires_at).toEqual(new Date(start + SESSION_LIFETIME_MS));

    vi.setSystemTime(start + SESSION_TOUCH_INTERVAL_MS / 2);
    expect((await browser.get('/profile')).statusCode).toBe(200);
    expect((await row())?.last_seen_at).toEqual(new Date(start));

    const later = start + SESSION_TOUCH_INTERVAL_MS + 1000;
    vi.setSystemTime(later);
    expect((await browser.get('/profile')).statusCode).toBe(200);
    expect((await row())?.last_seen_at).toEqual(new Date(later));
    expect((await row())?.expires_at).toEqual(new Date(later + SESSION_LIFETIME_MS));

    // The server's expiry is the one that counts, whatever the cookie says.
    await t.db.execute('UPDATE sessions SET expires_at = $1 WHERE user_id = $2', [new Date(later - 1000).toISOString().replace('T', ' ').replace('Z', ''), user.id]);
    expect((await browser.get('/profile')).statusCode).toBe(303);
  });

  it('visitors and static files cost no session look-up; a logged-in page costs exactly one', async () => {
    const visitor = new Browser(app);
    await visitor.get('/login');
    const before = sessionLookups.count;
    for (const url of ['/cities/new%20york/vehicles', '/cities/new%20york/vehicles?type=bike', '/', '/static/styles.css']) {
      expect((await visitor.get(url)).statusCode).toBe(200);
    }
    expect(sessionLookups.count).toBe(before);
    const user = await createUser(t.db);
    const browser = await loggedInBrowser(app, user.username ?? '');
    const start = sessionLookups.count;
    expect((await browser.get('/cities/new%20york/vehicles')).statusCode).toBe(200);
    expect(sessionLookups.count).toBe(start + 1);
    expect((await browser.get('/static/styles.css')).statusCode).toBe(200);
    expect((await browser.get('/profile')).statusCode).toBe(200);
    expect(sessionLookups.count).toBe(start + 2);
  });

  it('a forged token in a well-encrypted cookie is no session', async () => {
    const user = await createUser(t.db);
    const forged = app.encodeSecureSession(
      app.createSecureSession({ user: { id: user.id, city: user.city }, sid: 'guessed-token', expiresAt: Date.now() + 60_000 }),
    );
    expect(sessionId('guessed-token')).not.toBe('guessed-token');
    expect(await withCookie(app, `${SESSION_COOKIE}=${forged}`)).toEqual({ page: 303, api: 401 });
  });
});
