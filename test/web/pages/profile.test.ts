// The profile pages: details, the edit form, deleting the account; through app.inject() on both
// databases.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../../src/db/connect.ts';
import { endRide, startRide } from '../../../src/movr/rides.ts';
import { DEFAULT_PRICE_LIST } from '../../../src/movr/pricing.ts';
import { getUser } from '../../../src/movr/users.ts';
import { addVehicle } from '../../../src/movr/vehicles.ts';
import { buildTestApp } from '../../support/app.ts';
import { MASTERCARD, TEST_CITIES, TEST_PASSWORD, VISA, createUser } from '../../support/factories.ts';
import { describeEachDatabase } from '../../support/databases.ts';
import { Browser, fieldErrorOf, formTokenOf, inputValueOf, loggedInBrowser } from '../helpers.ts';

const XSS = '<script>alert(1)</script>';

async function userRow(db: Database, id: string): Promise<Record<string, unknown> | undefined> {
  const [row] = await db.execute('SELECT name, address, credit_card FROM users WHERE id = $1', [id]);
  return row;
}

/** The text of one <dd data-field="…"> of the profile's details. */
function detail(html: string, field: string): string {
  const inner = new RegExp(`<dd data-field="${field}">([\\s\\S]*?)</dd>`).exec(html)?.[1] ?? '';
  return inner.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim();
}

describeEachDatabase('profile pages', (t) => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp(t.db);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('need a logged-in user: visitors are sent to log in, with next for pages', async () => {
    for (const url of ['/profile', '/profile/delete']) {
      const response = await app.inject({ url, headers: { accept: 'text/html' } });
      expect(response.statusCode).toBe(303);
      expect(response.headers.location).toBe(`/login?next=${encodeURIComponent(url)}`);
    }
    const visitor = new Browser(app);
    const token = await formTokenOf(visitor, '/login');
    for (const url of ['/profile', '/profile/delete']) {
      const response = await visitor.postForm(url, { name: 'Nobody', confirmUsername: 'x', _csrf: token });
      expect(response.statusCode).toBe(303);
      expect(response.headers.location).toBe('/login');
    }
  });

  it('shows the user’s details: name, username, home city and region, address, masked card and ride counts', async () => {
    const user = await createUser(t.db, { name: 'Ada Lovelace', city: 'boston', address: '12 Analytical Row', cardNumber: VISA });
    const browser = await loggedInBrowser(app, user.username ?? '');
    const response = await browser.get('/profile');
    expect(response.statusCode).toBe(200);
    const html = response.body;
    expect(detail(html, 'name')).toBe('Ada Lovelace');
    expect(detail(html, 'username')).toBe(user.username);
    expect(detail(html, 'city')).toBe('Boston (US East, us-east1)');
    expect(html).toContain('<a href="/cities/boston/vehicles">Boston</a>');
    expect(detail(html, 'address')).toBe('12 Analytical Row');
    expect(detail(html, 'card')).toBe('**** **** **** 1111');
    expect(html).toContain('<dd class="stat__value" data-count="total">0</dd>');
    expect(html).toContain('<dd class="stat__value" data-count="open">0</dd>');
    expect(html).toContain('href="/profile" aria-current="page"');
    // The edit form is filled in, except the card (only its last four digits are known).
    expect(inputValueOf(html, 'name')).toBe('Ada Lovelace');
    expect(inputValueOf(html, 'address')).toBe('12 Analytical Row');
    expect(inputValueOf(html, 'cardNumber')).toBe('');
    expect(html).toContain('Leave blank to keep your card ending in 1111.');
    expect(html).toMatch(/<input type="checkbox" id="field-removeCard" name="removeCard" value="yes">/);
    expect(html).toContain('<label for="field-removeCard">Remove my card</label>');

    // Ride counts: one ended ride, one open.
    const owner = await createUser(t.db, { city: 'boston' });
    const bike = await addVehicle(t.db, owner, { type: 'bike', color: 'red', location: 'Common' }, TEST_CITIES);
    const scooter = await addVehicle(t.db, owner, { type: 'scooter', color: 'blue', location: 'Harbor' }, TEST_CITIES);
    const ride = await startRide(t.db, user, bike);
    await endRide(t.db, user, ride, 'Back Bay', { priceList: DEFAULT_PRICE_LIST });
    await startRide(t.db, user, scooter);
    const after = (await browser.get('/profile')).body;
    expect(after).toContain('<dd class="stat__value" data-count="total">2</dd>');
    expect(after).toContain('<dd class="stat__value" data-count="open">1</dd>');
  });

  it('shows a name and address with HTML in them escaped', async () => {
    const user = await createUser(t.db, { name: XSS, address: '"><img src=x onerror=alert(1)>' });
    const browser = await loggedInBrowser(app, user.username ?? '');
    const html = (await browser.get('/profile')).body;
    expect(html).not.toContain(XSS);
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(inputValueOf(html, 'address')).toBe('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
  });

  it('saves the name and address', async () => {
    const user = await createUser(t.db, { name: 'Old Name', address: 'Old Street' });
    const browser = await loggedInBrowser(app, user.username ?? '');
    const response = await browser.postForm('/profile', {
      name: '  New Name ',
      address: '2 New Street',
      cardNumber: '',
      _csrf: await formTokenOf(browser, '/profile'),
    });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/profile');
    expect(await userRow(t.db, user.id)).toEqual({ name: 'New Name', address: '2 New Street', credit_card: null });
    const page = (await browser.get('/profile')).body;
    expect(page).toContain('Your details are saved.');
    expect(detail(page, 'name')).toBe('New Name');

    // A blank address removes it.
    await browser.postForm('/profile', { name: 'New Name', address: ' ', _csrf: await formTokenOf(browser, '/profile') });
    expect(await userRow(t.db, user.id)).toMatchObject({ address: null });
    expect(detail((await browser.get('/profile')).body, 'address')).toBe('Not given');
  });

  it('a new card number replaces the card, a blank one keeps it, the checkbox removes it', async () => {
    const user = await createUser(t.db, { cardNumber: VISA });
    const browser = await loggedInBrowser(app, user.username ?? '');
    const post = async (fields: Record<string, string>) =>
      browser.postForm('/profile', { name: 'Test Rider', address: '1 Main Street', ...fields, _csrf: await formTokenOf(browser, '/profile') });

    const replaced = await post({ cardNumber: MASTERCARD });
    expect(replaced.statusCode).toBe(303);
    expect(await userRow(t.db, user.id)).toMatchObject({ credit_card: '**** **** **** 4444' });
    const page = (await browser.get('/profile')).body;
    expect(detail(page, 'card')).toBe('**** **** **** 4444');
    expect(page).not.toContain('5555');

    expect((await post({ cardNumber: '' })).statusCode).toBe(303);
    expect(await userRow(t.db, user.id)).toMatchObject({ credit_card: '**** **** **** 4444' });

    // Both a new number and "remove": refused, nothing changed.
    const both = await post({ cardNumber: VISA, removeCard: 'yes' });
    expect(both.statusCode).toBe(400);
    expect(fieldErrorOf(both.body, 'cardNumber')).toBe('Either enter a new card number or remove your card, not both.');
    expect(both.body).not.toContain(VISA);
    expect(both.body).toMatch(/name="removeCard" value="yes" checked>/);
    expect(await userRow(t.db, user.id)).toMatchObject({ credit_card: '**** **** **** 4444' });

    const removed = await post({ cardNumber: '', removeCard: 'yes' });
    expect(removed.statusCode).toBe(303);
    expect(await userRow(t.db, user.id)).toMatchObject({ credit_card: null });
    const after = (await browser.get('/profile')).body;
    expect(after).toContain('Your details are saved and your card is removed.');
    expect(detail(after, 'card')).toBe('No card');
    // Without a card there is nothing to remove.
    expect(after).not.toContain('name="removeCard"');
  });

  it('an invalid edit comes back with a message per field and the typed values, the card number never', async () => {
    const user = await createUser(t.db, { name: 'Kept Name', cardNumber: VISA });
    const browser = await loggedInBrowser(app, user.username ?? '');
    const response = await browser.postForm('/profile', {
      name: ' ',
      address: `Typed ${'a'.repeat(200)}`,
      cardNumber: '4111 1111 1111 1112',
      _csrf: await formTokenOf(browser, '/profile'),
    });
    expect(response.statusCode).toBe(400);
    expect(fieldErrorOf(response.body, 'name')).toBe('Enter your name.');
    expect(fieldErrorOf(response.body, 'address')).toBe('Use at most 200 characters.');
    expect(fieldErrorOf(response.body, 'cardNumber')).toMatch(/not valid/);
    expect(inputValueOf(response.body, 'name')).toBe(' ');
    expect(inputValueOf(response.body, 'address')).toBe(`Typed ${'a'.repeat(200)}`);
    expect(inputValueOf(response.body, 'cardNumber')).toBe('');
    expect(response.body).not.toContain('4111 1111 1111 1112');
    // The details beside the form still show what is saved.
    expect(detail(response.body, 'name')).toBe('Kept Name');
    expect(await userRow(t.db, user.id)).toEqual({ name: 'Kept Name', address: '1 Main Street', credit_card: '**** **** **** 1111' });
  });

  it('sessions are per cookie: one user’s session cannot change another user', async () => {
    const alice = await createUser(t.db, { name: 'Alice' });
    const bob = await createUser(t.db, { name: 'Bob' });
    const aliceBrowser = await loggedInBrowser(app, alice.username ?? '');
    const bobBrowser = await loggedInBrowser(app, bob.username ?? '');

    // Bob's form changes Bob, whatever ids he adds to it.
    const response = await bobBrowser.postForm('/profile', {
      name: 'Bob Changed',
      address: 'Bob Street',
      id: alice.id,
      city: alice.city,
      _csrf: await formTokenOf(bobBrowser, '/profile'),
    });
    expect(response.statusCode).toBe(303);
    expect(await userRow(t.db, bob.id)).toMatchObject({ name: 'Bob Changed' });
    expect(await userRow(t.db, alice.id)).toMatchObject({ name: 'Alice' });

    // Alice's CSRF token is worthless in Bob's session (and the other way round).
    const aliceToken = await formTokenOf(aliceBrowser, '/profile');
    const forged = await bobBrowser.postForm('/profile', { name: 'Hacked', _csrf: aliceToken });
    expect(forged.statusCode).toBe(403);
    const forgedDelete = await bobBrowser.postForm('/profile/delete', { confirmUsername: alice.username ?? '', _csrf: aliceToken });
    expect(forgedDelete.statusCode).toBe(403);
    // Typing Alice's username in Bob's session does not delete anyone.
    const wrongUser = await bobBrowser.postForm('/profile/delete', {
      confirmUsername: alice.username ?? '',
      _csrf: await formTokenOf(bobBrowser, '/profile/delete'),
    });
    expect(wrongUser.statusCode).toBe(400);
    expect(await userRow(t.db, alice.id)).toMatchObject({ name: 'Alice' });
    expect(await userRow(t.db, bob.id)).toMatchObject({ name: 'Bob Changed' });
    expect(detail((await aliceBrowser.get('/profile')).body, 'name')).toBe('Alice');
  });

  it('delete: a confirmation page; the typed username must match', async () => {
    const user = await createUser(t.db);
    const browser = await loggedInBrowser(app, user.username ?? '');
    const page = await browser.get('/profile/delete');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<form class="form" method="post" action="/profile/delete" novalidate>');
    expect(page.body).toContain('<label class="field__label" for="field-confirmUsername">Type your username to confirm</label>');

    for (const [typed, message] of [
      ['', 'Type your username to confirm.'],
      ['someone-else', 'That is not your username. Type it exactly to confirm.'],
    ] as const) {
      const response = await browser.postForm('/profile/delete', { confirmUsername: typed, _csrf: await formTokenOf(browser, '/profile/delete') });
      expect(response.statusCode).toBe(400);
      expect(fieldErrorOf(response.body, 'confirmUsername')).toBe(message);
    }
    expect((await getUser(t.db.orm, user)).name).toBe('Test Rider');
  });

  it('delete is refused while a ride is open', async () => {
    const user = await createUser(t.db, { city: 'rome' });
    const owner = await createUser(t.db, { city: 'rome' });
    const vehicle = await addVehicle(t.db, owner, { type: 'scooter', color: 'black', location: 'Via Roma 1' }, TEST_CITIES);
    const browser = await loggedInBrowser(app, user.username ?? '');
    const token = await formTokenOf(browser, '/profile/delete');
    await startRide(t.db, user, vehicle);

    // The confirmation page says so instead of offering the form…
    const page = await browser.get('/profile/delete');
    expect(page.body).toContain('You have a ride in progress. End it before deleting your account.');
    expect(page.body).not.toContain('name="confirmUsername"');
    // …and a POST is refused with a flash.
    const response = await browser.postForm('/profile/delete', { confirmUsername: user.username ?? '', _csrf: token });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/profile/delete');
    const after = await browser.get('/profile/delete');
    expect(after.body).toMatch(/<div class="flash flash--error" role="alert">\s*<p>Your account was not deleted\. End your ride before deleting your account\.<\/p>/);
    expect((await getUser(t.db.orm, user)).name).toBe('Test Rider');
    expect((await browser.get('/profile')).statusCode).toBe(200);
    await loggedInBrowser(app, user.username ?? '');
  });

  it('delete works otherwise: the account is erased, the session ended, and the user cannot log in again', async () => {
    const user = await createUser(t.db, { cardNumber: VISA });
    const username = user.username ?? '';
    const browser = await loggedInBrowser(app, username);
    const otherSession = await loggedInBrowser(app, username);
    const response = await browser.postForm('/profile/delete', {
      confirmUsername: ` ${username.toUpperCase()} `,
      _csrf: await formTokenOf(browser, '/profile/delete'),
    });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/');
    const home = await browser.get('/');
    expect(home.body).toContain('Your account is deleted.');
    expect(home.body).toContain('href="/login"');
    expect((await browser.get('/profile')).statusCode).toBe(303);
    expect(await userRow(t.db, user.id)).toEqual({ name: null, address: null, credit_card: null });

    const login = new Browser(app);
    const again = await login.postForm('/login', { username, password: TEST_PASSWORD, _csrf: await formTokenOf(login, '/login') });
    expect(again.statusCode).toBe(401);

    // Every other session of the account ended with it, on the server: a copy of its cookie
    // reads nothing, on the site or the API.
    const stale = await otherSession.get('/profile');
    expect(stale.statusCode).toBe(303);
    expect(stale.headers.location).toBe('/login?next=%2Fprofile');
    expect((await otherSession.get('/rides')).statusCode).toBe(303);
    expect((await otherSession.get('/api/v1/rides')).statusCode).toBe(401);
  });
});
