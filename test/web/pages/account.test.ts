// The account pages: sign-up, log-in and log-out, through app.inject() on both databases.
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../../src/db/connect.ts';
import { addVehicle } from '../../../src/movr/vehicles.ts';
import { SESSION_COOKIE } from '../../../src/web/plugins/sessions.ts';
import { buildTestApp } from '../../support/app.ts';
import { TEST_CITIES, TEST_PASSWORD, VISA, createUser, uniqueUsername } from '../../support/factories.ts';
import { countRows, snapshot } from '../../support/snapshot.ts';
import { describeEachDatabase } from '../../support/databases.ts';
import { BROWSER_ACCEPT, Browser, csrfFieldOf, fieldErrorOf, formTokenOf, inputValueOf, loggedInBrowser } from '../helpers.ts';

const CSRF_MESSAGE = 'This form has expired or was not sent from MovR.';
const CARD_DIGITS = '4111111111111111';

async function userRow(db: Database, id: string): Promise<Record<string, unknown> | undefined> {
  const [row] = await db.execute('SELECT * FROM users WHERE id = $1', [id]);
  return row;
}

/** The section of the page between <main> and </main>. */
function mainOf(html: string): string {
  return /<main[\s\S]*<\/main>/.exec(html)?.[0] ?? '';
}

describeEachDatabase('account pages', (t) => {
  let app: FastifyInstance;
  const logLines: string[] = [];

  beforeAll(async () => {
    const stream = new Writable({
      write(chunk, _encoding, callback) {
        logLines.push(String(chunk));
        callback();
      },
    });
    app = await buildTestApp(t.db, { env: { MOVR_REGION: 'europe-west1' }, logger: { level: 'trace', stream } });
  });
  afterAll(async () => {
    await app?.close();
  });

  function validSignUp(overrides: Record<string, string> = {}): Record<string, string> {
    return {
      name: 'Ada Lovelace',
      city: 'washington dc',
      address: '12 Analytical Row',
      username: uniqueUsername('ada'),
      password: 'Difference-Engine-1843',
      cardNumber: '',
      ...overrides,
    };
  }

  // ---- sign-up -----------------------------------------------------------------------------

  it('GET /signup: every field labelled, cities grouped by region with this instance’s region first', async () => {
    const browser = new Browser(app);
    const response = await browser.get('/signup');
    expect(response.statusCode).toBe(200);
    const html = response.body;
    expect(csrfFieldOf(html)).toMatch(/\S{20,}/);
    for (const [name, autocomplete] of [
      ['name', 'name'],
      ['address', 'street-address'],
      ['username', 'username'],
      ['password', 'new-password'],
      ['cardNumber', 'cc-number'],
    ] as const) {
      expect(html).toContain(`<label class="field__label" for="field-${name}">`);
      expect(html).toMatch(new RegExp(`id="field-${name}" name="${name}"[^>]*autocomplete="${autocomplete}"`));
    }
    expect(html).toContain('<label class="field__label" for="field-city">Home city</label>');
    const groups = [...html.matchAll(/<optgroup label="([^"]+)">([\s\S]*?)<\/optgroup>/g)].map((m) => ({
      label: m[1],
      cities: [...(m[2] ?? '').matchAll(/<option value="([^"]+)"/g)].map((o) => o[1]),
    }));
    expect(groups).toEqual([
      { label: 'Europe West', cities: ['amsterdam', 'paris', 'rome'] },
      { label: 'US East', cities: ['new york', 'boston', 'washington dc'] },
      { label: 'US West', cities: ['san francisco', 'seattle', 'los angeles'] },
    ]);
    expect(html).toContain('Your account and your rides live in your home city');
    expect(html).toContain('href="/signup" aria-current="page"');
  });

  it('signs up: logged in, sent to the home city’s vehicles, and only the masked card is kept anywhere', async () => {
    const browser = new Browser(app);
    const form = validSignUp({ cardNumber: VISA });
    logLines.length = 0;
    const response = await browser.postForm('/signup', { ...form, _csrf: await formTokenOf(browser, '/signup') });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/cities/washington%20dc/vehicles');

    // Logged in as the new user.
    const profile = await browser.get('/profile');
    expect(profile.statusCode).toBe(200);
    expect(profile.body).toContain(form.username);
    expect(profile.body).toContain('Ada Lovelace');
    expect(profile.body).toContain('Welcome to MovR, Ada Lovelace!');
    expect(profile.body).toContain('**** **** **** 1111');

    const [credentials] = await t.db.execute('SELECT user_id, city FROM user_credentials WHERE username = $1', [form.username]);
    const id = String(credentials?.user_id);
    expect(credentials?.city).toBe('washington dc');
    const row = await userRow(t.db, id);
    expect(row).toMatchObject({ name: 'Ada Lovelace', city: 'washington dc', address: '12 Analytical Row', credit_card: '**** **** **** 1111' });
    const everything = [JSON.stringify(await snapshot(t.db)), response.body, JSON.stringify(response.headers), profile.body, logLines.join('\n')];
    for (const text of everything) {
      expect(text).not.toContain(CARD_DIGITS);
      expect(text).not.toContain(VISA);
      expect(text).not.toContain('4111-1111');
    }
    expect(logLines.length).toBeGreaterThan(0);
  });

  it('a form with every field wrong comes back with the typed values (never the password or card) and a message per field', async () => {
    const browser = new Browser(app);
    const before = await countRows(t.db, 'SELECT count(*) AS n FROM user_credentials');
    const response = await browser.postForm('/signup', {
      name: 'N'.repeat(101),
      city: 'atlantis',
      address: `A${'x'.repeat(200)}`,
      username: 'no!',
      password: 'Sec-9q',
      cardNumber: '4111 1111 1111 1112',
      _csrf: await formTokenOf(browser, '/signup'),
    });
    expect(response.statusCode).toBe(400);
    const html = response.body;
    expect(html).toContain('There is a problem');
    expect(fieldErrorOf(html, 'name')).toBe('Use at most 100 characters.');
    expect(fieldErrorOf(html, 'city')).toBe('Choose one of the cities MovR serves.');
    expect(fieldErrorOf(html, 'address')).toBe('Use at most 200 characters.');
    expect(fieldErrorOf(html, 'username')).toMatch(/^Use 3 to 32 letters/);
    expect(fieldErrorOf(html, 'password')).toBe('Use at least 10 characters.');
    expect(fieldErrorOf(html, 'cardNumber')).toMatch(/not valid/);
    expect(inputValueOf(html, 'name')).toBe('N'.repeat(101));
    expect(inputValueOf(html, 'address')).toBe(`A${'x'.repeat(200)}`);
    expect(inputValueOf(html, 'username')).toBe('no!');
    expect(inputValueOf(html, 'password')).toBeUndefined();
    expect(inputValueOf(html, 'cardNumber')).toBe('');
    expect(html).not.toContain('Sec-9q');
    expect(html).not.toContain('4111 1111 1111 1112');
    expect(html).toMatch(/id="field-name"[^>]*aria-invalid="true"/);
    expect(html).toMatch(/<select[^>]*id="field-city"[^>]*aria-invalid="true"/);
    // The summary links to each field, in the order of the form.
    expect([...html.matchAll(/<li><a href="#field-([A-Za-z]+)">/g)].map((m) => m[1])).toEqual([
      'name',
      'city',
      'address',
      'username',
      'password',
      'cardNumber',
    ]);
    expect(await countRows(t.db, 'SELECT count(*) AS n FROM user_credentials')).toBe(before);
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(true);
    expect((await browser.get('/profile')).statusCode).toBe(303);
  });

  it('each field’s problem is shown on that field, with the other values kept', async () => {
    const cases: [string, Record<string, string>, RegExp][] = [
      ['name', { name: '   ' }, /^Enter your name\.$/],
      ['city', { city: '' }, /^Choose one of the cities/],
      ['username', { username: 'x' }, /^Use 3 to 32 letters/],
      ['password', { password: 'password123' }, /too easy to guess/],
      ['password', { password: 'short' }, /at least 10 characters/],
      ['cardNumber', { cardNumber: '12ab' }, /12 to 19 digits/],
      ['address', { address: 'y'.repeat(201) }, /at most 200/],
    ];
    for (const [field, overrides, message] of cases) {
      const browser = new Browser(app);
      const form = validSignUp(overrides);
      const response = await browser.postForm('/signup', { ...form, _csrf: await formTokenOf(browser, '/signup') });
      expect(response.statusCode, field).toBe(400);
      expect(fieldErrorOf(response.body, field), field).toMatch(message);
      const errors = [...response.body.matchAll(/class="field__error" id="field-([A-Za-z]+)-error"/g)].map((m) => m[1]);
      expect(errors, field).toEqual([field]);
      if (field !== 'name') expect(inputValueOf(response.body, 'name')).toBe(form.name);
      if (field !== 'username') expect(inputValueOf(response.body, 'username')).toBe(form.username);
      if (field !== 'address') expect(inputValueOf(response.body, 'address')).toBe(form.address);
      if (field !== 'city') expect(response.body).toContain(`<option value="${form.city}" selected>`);
      expect(response.body).not.toContain(form.password);
    }
  });

  it('a taken username (in any case) is a 409 with a message on the username field, never a database error', async () => {
    const taken = uniqueUsername('taken');
    await createUser(t.db, { username: taken });
    const before = await snapshot(t.db);
    for (const username of [taken, taken.toUpperCase(), ` ${taken.charAt(0).toUpperCase()}${taken.slice(1)} `]) {
      const browser = new Browser(app);
      const form = validSignUp({ username });
      const response = await browser.postForm('/signup', { ...form, _csrf: await formTokenOf(browser, '/signup') });
      expect(response.statusCode).toBe(409);
      expect(fieldErrorOf(response.body, 'username')).toBe(`The username &quot;${taken}&quot; is taken. Choose another.`);
      expect(inputValueOf(response.body, 'username')).toBe(username);
      expect(inputValueOf(response.body, 'name')).toBe('Ada Lovelace');
      expect(response.body).not.toMatch(/duplicate|constraint|SQL|violat/i);
      expect(response.body).not.toContain(form.password);
      expect((await browser.get('/profile')).statusCode).toBe(303);
    }
    expect(await snapshot(t.db)).toEqual(before);
  });

  it('an XSS attempt in the sign-up form is shown escaped', async () => {
    const browser = new Browser(app);
    const response = await browser.postForm('/signup', {
      ...validSignUp({ name: '"><script>alert(1)</script>', password: 'x' }),
      _csrf: await formTokenOf(browser, '/signup'),
    });
    expect(response.statusCode).toBe(400);
    expect(response.body).not.toContain('<script>alert(1)</script>');
    expect(inputValueOf(response.body, 'name')).toBe('&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('a logged-in user visiting /login or /signup is sent to /', async () => {
    const user = await createUser(t.db);
    const browser = await loggedInBrowser(app, user.username ?? '');
    for (const url of ['/login', '/signup', '/login?next=%2Fprofile']) {
      const response = await browser.get(url);
      expect(response.statusCode).toBe(303);
      expect(response.headers.location).toBe('/');
    }
    const token = await formTokenOf(browser, '/profile');
    const before = await countRows(t.db, 'SELECT count(*) AS n FROM user_credentials');
    const response = await browser.postForm('/signup', { ...validSignUp(), _csrf: token });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/');
    expect(await countRows(t.db, 'SELECT count(*) AS n FROM user_credentials')).toBe(before);
  });

  // ---- log-in ------------------------------------------------------------------------------

  it('GET /login: labelled fields with autocomplete; a safe next is kept in a hidden field, an unsafe one dropped', async () => {
    const page = await app.inject({ url: '/login', headers: { accept: BROWSER_ACCEPT } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/id="field-username" name="username"[^>]*autocomplete="username"/);
    expect(page.body).toMatch(/id="field-password" name="password" type="password"[^>]*autocomplete="current-password"/);
    expect(page.body).toContain('href="/login" aria-current="page"');
    expect(page.body).not.toContain('name="next"');

    const safe = await app.inject({ url: '/login?next=%2Frides%3Fpage%3D2', headers: { accept: BROWSER_ACCEPT } });
    expect(safe.body).toContain('<input type="hidden" name="next" value="/rides?page=2">');
    for (const next of ['//evil.example', 'https://evil.example', '/\\evil.example', 'javascript:alert(1)']) {
      const unsafe = await app.inject({ url: `/login?next=${encodeURIComponent(next)}`, headers: { accept: BROWSER_ACCEPT } });
      expect(unsafe.statusCode).toBe(200);
      expect(unsafe.body).not.toContain('name="next"');
      expect(unsafe.body).not.toContain('evil.example');
    }
    // Two next values are ignored rather than an error.
    const twice = await app.inject({ url: '/login?next=/a&next=/b', headers: { accept: BROWSER_ACCEPT } });
    expect(twice.statusCode).toBe(200);
  });

  it('logs in (username in any case) and goes to the home city’s vehicles, or to a safe next', async () => {
    const user = await createUser(t.db, { city: 'san francisco', name: 'Grace Hopper' });
    const username = user.username ?? '';

    const browser = new Browser(app);
    const response = await browser.postForm('/login', {
      username: ` ${username.toUpperCase()} `,
      password: TEST_PASSWORD,
      _csrf: await formTokenOf(browser, '/login'),
    });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/cities/san%20francisco/vehicles');
    const profile = await browser.get('/profile');
    expect(profile.statusCode).toBe(200);
    expect(profile.body).toContain('Welcome back, Grace Hopper!');

    const withNext = new Browser(app);
    const next = await withNext.postForm('/login', {
      username,
      password: TEST_PASSWORD,
      next: '/promo-codes?cursor=abc',
      _csrf: await formTokenOf(withNext, '/login'),
    });
    expect(next.headers.location).toBe('/promo-codes?cursor=abc');

    for (const evil of ['//evil.example', '//evil.example/profile', 'https://evil.example', '/\\evil.example']) {
      const other = new Browser(app);
      const ignored = await other.postForm('/login', {
        username,
        password: TEST_PASSWORD,
        next: evil,
        _csrf: await formTokenOf(other, '/login'),
      });
      expect(ignored.statusCode).toBe(303);
      expect(ignored.headers.location).toBe('/cities/san%20francisco/vehicles');
    }
  });

  it('a protected page sends a visitor to log in, and back to that page afterwards', async () => {
    const user = await createUser(t.db);
    const browser = new Browser(app);
    const first = await browser.get('/profile/delete');
    expect(first.statusCode).toBe(303);
    expect(first.headers.location).toBe('/login?next=%2Fprofile%2Fdelete');
    const login = await browser.get(first.headers.location ?? '');
    expect(login.body).toContain('<input type="hidden" name="next" value="/profile/delete">');
    const response = await browser.postForm('/login', {
      username: user.username ?? '',
      password: TEST_PASSWORD,
      next: '/profile/delete',
      _csrf: csrfFieldOf(login.body) ?? '',
    });
    expect(response.headers.location).toBe('/profile/delete');
    expect((await browser.get('/profile/delete')).statusCode).toBe(200);
  });

  it('wrong credentials: 401, one generic message, the username kept, the password not', async () => {
    const user = await createUser(t.db);
    const username = user.username ?? '';
    const messages = new Set<string>();
    for (const [name, password] of [
      [username, 'Wrong-Password-99'],
      [`nobody-${username}`, TEST_PASSWORD],
      [username, ''],
    ] as const) {
      const browser = new Browser(app);
      const response = await browser.postForm('/login', {
        username: name,
        password,
        next: '/promo-codes',
        _csrf: await formTokenOf(browser, '/login'),
      });
      expect(response.statusCode).toBe(401);
      expect(inputValueOf(response.body, 'username')).toBe(name);
      expect(inputValueOf(response.body, 'password')).toBeUndefined();
      if (password) expect(response.body).not.toContain(password);
      expect(response.body).toContain('<input type="hidden" name="next" value="/promo-codes">');
      const summary = /<ul class="error-summary__list">([\s\S]*?)<\/ul>/.exec(response.body)?.[1] ?? '';
      messages.add(summary.replace(/\s+/g, ' ').trim());
      expect((await browser.get('/profile')).statusCode).toBe(303);
    }
    expect([...messages]).toEqual(['<li>The username or password is not right.</li>']);
  });

  it('is limited: 10 failures per 5 minutes per username, then 429 with Retry-After', async () => {
    const user = await createUser(t.db);
    const username = user.username ?? '';
    const browser = new Browser(app);
    const token = await formTokenOf(browser, '/login');
    for (let i = 0; i < 10; i++) {
      const response = await browser.postForm('/login', { username, password: `Wrong-Password-${i}`, _csrf: token });
      expect(response.statusCode).toBe(401);
    }
    // The right password does not help once the limit is reached; the username's case neither.
    const limited = await browser.postForm('/login', { username: username.toUpperCase(), password: TEST_PASSWORD, _csrf: token });
    expect(limited.statusCode).toBe(429);
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(300);
    expect(limited.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(limited.body).toContain('Too many attempts. Please wait');
    expect((await browser.get('/profile')).statusCode).toBe(303);

    // Another username has its own allowance.
    const other = await createUser(t.db);
    const ok = await browser.postForm('/login', { username: other.username ?? '', password: TEST_PASSWORD, _csrf: token });
    expect(ok.statusCode).toBe(303);
  });

  // ---- log-out -----------------------------------------------------------------------------

  it('logs out with a POST and its CSRF token only', async () => {
    const user = await createUser(t.db);
    const browser = await loggedInBrowser(app, user.username ?? '');

    // Not by GET…
    const get = await browser.get('/logout');
    expect(get.statusCode).toBe(404);
    // …nor by a POST without the token, or with another session's token.
    const stranger = new Browser(app);
    const strangerToken = await formTokenOf(stranger, '/login');
    for (const fields of [{}, { _csrf: '' }, { _csrf: strangerToken }] as Record<string, string>[]) {
      const forged = await browser.postForm('/logout', fields);
      expect(forged.statusCode).toBe(403);
      expect(forged.body).toContain(CSRF_MESSAGE);
    }
    expect((await browser.get('/profile')).statusCode).toBe(200);

    const response = await browser.postForm('/logout', { _csrf: await formTokenOf(browser, '/profile') });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/');
    const home = await browser.get('/');
    expect(home.body).toContain('You are logged out.');
    expect(home.body).toContain('href="/login"');
    expect((await browser.get('/profile')).statusCode).toBe(303);
  });

  // ---- CSRF on every POST route ------------------------------------------------------------

  it('every POST route refuses a form without its CSRF token (403) and changes nothing', async () => {
    const user = await createUser(t.db, { cardNumber: '5555 5555 5555 4444' });
    const owner = await createUser(t.db);
    await addVehicle(t.db, owner, { type: 'bike', color: 'red', location: 'Main St' }, TEST_CITIES);
    await t.db.execute(
      `INSERT INTO promo_codes (code, description, creation_time, rules) VALUES ('CSRF-TEST', 'x', '2020-01-01', '{"type":"percent_discount","value":"10%"}')`,
    );
    const browser = await loggedInBrowser(app, user.username ?? '');
    const visitor = new Browser(app);
    await visitor.get('/login');
    const before = await snapshot(t.db);
    const posts: [Browser, string, Record<string, string>][] = [
      [visitor, '/signup', validSignUp()],
      [visitor, '/login', { username: user.username ?? '', password: TEST_PASSWORD }],
      [browser, '/logout', {}],
      [browser, '/profile', { name: 'Forged', address: 'Forged', cardNumber: '4111111111111111' }],
      [browser, '/profile', { name: 'Forged', removeCard: 'yes' }],
      [browser, '/profile/delete', { confirmUsername: user.username ?? '' }],
      [browser, '/promo-codes', { code: 'CSRF-TEST' }],
    ];
    for (const [client, url, fields] of posts) {
      const response = await client.postForm(url, fields);
      expect(response.statusCode, url).toBe(403);
      expect(response.body, url).toContain(CSRF_MESSAGE);
      const json = await client.request({
        method: 'POST',
        url,
        headers: { accept: 'application/json', 'content-type': 'application/json' },
        payload: JSON.stringify(fields),
      });
      expect(json.statusCode, url).toBe(403);
    }
    expect(await snapshot(t.db)).toEqual(before);
    expect((await visitor.get('/profile')).statusCode).toBe(303);
    expect((await browser.get('/profile')).statusCode).toBe(200);
  });

  it('pages carry no personal data for visitors and are not cached', async () => {
    const response = await app.inject({ url: '/signup', headers: { accept: BROWSER_ACCEPT } });
    expect(response.headers['cache-control']).toBe('no-store');
    expect(mainOf(response.body)).not.toContain('Log out');
  });
});
