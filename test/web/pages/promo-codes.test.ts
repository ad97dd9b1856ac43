// The promo codes page: the active codes a page at a time, the user's own codes, adding one;
// through app.inject() on both databases.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../../src/db/connect.ts';
import { addPromoCode } from '../../../src/movr/promo-codes.ts';
import { buildTestApp } from '../../support/app.ts';
import { createUser, insertPromoCode } from '../../support/factories.ts';
import { describeEachDatabase } from '../../support/databases.ts';
import { BROWSER_ACCEPT, Browser, csrfFieldOf, fieldErrorOf, formTokenOf, inputValueOf, loggedInBrowser } from '../helpers.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const XSS = '<script>alert(1)</script>';

async function userCodes(db: Database, userId: string): Promise<string[]> {
  const rows = await db.execute('SELECT code FROM user_promo_codes WHERE user_id = $1 ORDER BY code', [userId]);
  return rows.map((row) => String(row.code));
}

/** The codes of the "Codes you can use now" table, in page order. */
function activeCodes(html: string): string[] {
  const section = /<section class="promo-active"[\s\S]*?<\/section>/.exec(html)?.[0] ?? '';
  return [...section.matchAll(/<tr data-code="([^"]*)">/g)].map((m) => m[1] ?? '');
}

/** The <li> of one of the user's codes in "Your codes". */
function myCode(html: string, code: string): string | undefined {
  return new RegExp(`<li class="promo-item[^"]*" data-code="${code}">[\\s\\S]*?</li>`).exec(html)?.[0];
}

describeEachDatabase('promo codes page', (t) => {
  let app: FastifyInstance;
  const future = new Date(Date.now() + 30 * DAY_MS);

  beforeAll(async () => {
    app = await buildTestApp(t.db);
    await insertPromoCode(t.db, 'A-SAVE10', { percent: '10%', expirationTime: future, description: 'Ten percent off every ride' });
    await insertPromoCode(t.db, 'A-SAVE25', { percent: '25%' });
    await insertPromoCode(t.db, 'A-XSS', { description: XSS });
    await insertPromoCode(t.db, 'A-ODD', { rules: { type: 'free_unlock', value: 'yes' } });
    await insertPromoCode(t.db, 'A-SOON-EXPIRED', { expirationTime: new Date(Date.now() + DAY_MS) });
    await insertPromoCode(t.db, 'Z-EXPIRED', { expirationTime: new Date('2021-01-01T00:00:00Z') });
    await insertPromoCode(t.db, 'Z-FUTURE', { creationTime: new Date(Date.now() + DAY_MS) });
    for (let i = 0; i < 20; i++) await insertPromoCode(t.db, `P-${String(i).padStart(2, '0')}`);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('visitors see the active codes with description, discount and expiry, and are invited to log in', async () => {
    const response = await app.inject({ url: '/promo-codes', headers: { accept: BROWSER_ACCEPT } });
    expect(response.statusCode).toBe(200);
    const html = response.body;
    const codes = activeCodes(html);
    expect(codes).toHaveLength(20);
    expect(codes.slice(0, 5)).toEqual(['A-ODD', 'A-SAVE10', 'A-SAVE25', 'A-SOON-EXPIRED', 'A-XSS']);
    expect(codes).not.toContain('Z-EXPIRED');
    expect(codes).not.toContain('Z-FUTURE');
    const row = /<tr data-code="A-SAVE10">[\s\S]*?<\/tr>/.exec(html)?.[0] ?? '';
    expect(row).toContain('Ten percent off every ride');
    expect(row).toContain('10% off');
    const day = future.toISOString().slice(0, 10);
    expect(row).toMatch(new RegExp(`<time datetime="${day}T[0-9:]+Z">\\d{1,2} [A-Z][a-z]{2} \\d{4}</time>`));
    expect(/<tr data-code="A-SAVE25">[\s\S]*?<\/tr>/.exec(html)?.[0]).toContain('No expiry');
    expect(/<tr data-code="A-ODD">[\s\S]*?<\/tr>/.exec(html)?.[0]).toContain('No discount');
    // Escaped.
    expect(html).not.toContain(XSS);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    // No forms for visitors: a log-in link that comes back here.
    expect(html).not.toContain('action="/promo-codes"');
    expect(html).not.toContain('Your codes');
    expect(html).toContain('<a href="/login?next=%2Fpromo-codes">Log in</a>');
  });

  it('pages through the active codes with a keyset "Next page" link', async () => {
    const first = (await app.inject({ url: '/promo-codes', headers: { accept: BROWSER_ACCEPT } })).body;
    const firstCodes = activeCodes(first);
    const last = firstCodes.at(-1) ?? '';
    const next = `/promo-codes?cursor=${encodeURIComponent(last)}`;
    expect(first).toContain(`<a class="pagination__link" href="${next}" rel="next">Next page`);
    expect(first).not.toContain('First page');

    const second = await app.inject({ url: next, headers: { accept: BROWSER_ACCEPT } });
    expect(second.statusCode).toBe(200);
    const secondCodes = activeCodes(second.body);
    expect(secondCodes.length).toBeGreaterThan(0);
    expect(secondCodes.every((code) => code > last)).toBe(true);
    expect([...firstCodes, ...secondCodes]).toHaveLength(new Set([...firstCodes, ...secondCodes]).size);
    expect(second.body).toContain('<a class="pagination__link" href="/promo-codes"><span aria-hidden="true">«</span> First page</a>');
    expect(second.body).not.toContain('rel="next"');

    // A cursor past the end, or an odd one, is an empty page or the first one, not an error.
    const end = await app.inject({ url: '/promo-codes?cursor=zzzz', headers: { accept: BROWSER_ACCEPT } });
    expect(end.statusCode).toBe(200);
    expect(end.body).toContain('There are no more codes.');
    const odd = await app.inject({ url: '/promo-codes?cursor=&cursor=x', headers: { accept: BROWSER_ACCEPT } });
    expect(odd.statusCode).toBe(200);
  });

  it('a logged-in user sees an add form, their (empty) codes, and an Add button per active code', async () => {
    const user = await createUser(t.db);
    const browser = await loggedInBrowser(app, user.username ?? '');
    const html = (await browser.get('/promo-codes')).body;
    expect(html).toContain('href="/promo-codes" aria-current="page"');
    expect(html).toContain('<label class="field__label" for="field-code">Promo code</label>');
    expect(html).toContain('You have no promo codes yet.');
    const row = /<tr data-code="A-SAVE25">[\s\S]*?<\/tr>/.exec(html)?.[0] ?? '';
    expect(row).toContain('<form class="inline-form" method="post" action="/promo-codes">');
    expect(row).toContain('<input type="hidden" name="code" value="A-SAVE25">');
    expect(csrfFieldOf(row)).toMatch(/\S{20,}/);
    expect(row).toMatch(/<button class="button button--small button--secondary" type="submit">Add<span class="visually-hidden"> A-SAVE25<\/span><\/button>/);
  });

  it('adding a code: unknown, expired, not yet valid and empty codes are refused with a clear message; success is flashed', async () => {
    const user = await createUser(t.db);
    const browser = await loggedInBrowser(app, user.username ?? '');
    const add = async (code: string) => browser.postForm('/promo-codes', { code, _csrf: await formTokenOf(browser, '/promo-codes') });

    for (const [code, status, message] of [
      ['NO-SUCH-CODE', 404, 'There is no promo code &quot;NO-SUCH-CODE&quot;.'],
      ['Z-EXPIRED', 409, 'The promo code &quot;Z-EXPIRED&quot; has expired.'],
      ['Z-FUTURE', 409, 'The promo code &quot;Z-FUTURE&quot; is not valid yet.'],
      ['   ', 400, 'Enter a promo code.'],
    ] as const) {
      const response = await add(code);
      expect(response.statusCode, code).toBe(status);
      expect(fieldErrorOf(response.body, 'code'), code).toBe(message);
      expect(inputValueOf(response.body, 'code'), code).toBe(code.trim());
      expect(response.body).toContain('There is a problem');
      // The page is whole again: the lists are still there.
      expect(activeCodes(response.body)).toContain('A-SAVE10');
    }
    expect(await userCodes(t.db, user.id)).toEqual([]);

    const added = await add(' A-SAVE10 ');
    expect(added.statusCode).toBe(303);
    expect(added.headers.location).toBe('/promo-codes');
    const page = (await browser.get('/promo-codes')).body;
    expect(page).toContain('Promo code A-SAVE10 added. You get 10% off your rides while it is valid.');
    expect(await userCodes(t.db, user.id)).toEqual(['A-SAVE10']);
    const mine = myCode(page, 'A-SAVE10') ?? '';
    expect(mine).toContain('Ten percent off every ride');
    expect(mine).toContain('Not used yet');
    expect(mine).toContain('Active');
    expect(mine).toContain('10% off');
    expect(mine).toMatch(/Expires <time datetime="[^"]+">/);
    // The active list says it is added rather than offering it again.
    const row = /<tr data-code="A-SAVE10">[\s\S]*?<\/tr>/.exec(page)?.[0] ?? '';
    expect(row).toContain('Added');
    expect(row).not.toContain('<form');

    const duplicate = await add('A-SAVE10');
    expect(duplicate.statusCode).toBe(409);
    expect(fieldErrorOf(duplicate.body, 'code')).toBe('You have already added the promo code &quot;A-SAVE10&quot;.');
    expect(await userCodes(t.db, user.id)).toEqual(['A-SAVE10']);
  });

  it('the Add button adds a listed code and comes back to the same page of the list', async () => {
    const user = await createUser(t.db);
    const browser = await loggedInBrowser(app, user.username ?? '');
    const cursor = 'P-05';
    const page = (await browser.get(`/promo-codes?cursor=${cursor}`)).body;
    const row = /<tr data-code="P-06">[\s\S]*?<\/tr>/.exec(page)?.[0] ?? '';
    expect(row).toContain(`<input type="hidden" name="cursor" value="${cursor}">`);
    const response = await browser.postForm('/promo-codes', { code: 'P-06', cursor, _csrf: csrfFieldOf(row) ?? '' });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe(`/promo-codes?cursor=${cursor}`);
    expect(await userCodes(t.db, user.id)).toEqual(['P-06']);
  });

  it('your codes show how often each was used and an Expired badge once expired', async () => {
    const user = await createUser(t.db);
    await addPromoCode(t.db, user, 'A-SOON-EXPIRED');
    await addPromoCode(t.db, user, 'A-SAVE25');
    await t.db.execute("UPDATE user_promo_codes SET usage_count = 3 WHERE user_id = $1 AND code = 'A-SAVE25'", [user.id]);
    await t.db.execute(
      "UPDATE promo_codes SET expiration_time = now() - interval '1 minute' WHERE code = 'A-SOON-EXPIRED'",
    );
    const browser = await loggedInBrowser(app, user.username ?? '');
    const html = (await browser.get('/promo-codes')).body;
    const expired = myCode(html, 'A-SOON-EXPIRED') ?? '';
    expect(expired).toContain('promo-item--expired');
    expect(expired).toContain('<span class="status-badge promo-badge--expired">Expired</span>');
    expect(expired).toMatch(/Expired <time/);
    const used = myCode(html, 'A-SAVE25') ?? '';
    expect(used).toContain('Used 3 times');
    expect(used).toContain('No expiry');
    expect(used).not.toContain('Expired');
    expect(activeCodes(html)).not.toContain('A-SOON-EXPIRED');
  });

  it('adding needs a logged-in user and the CSRF token; one user’s session adds to that user only', async () => {
    const visitor = new Browser(app);
    const visitorToken = await formTokenOf(visitor, '/login');
    const before = await t.db.execute('SELECT count(*)::int AS n FROM user_promo_codes');
    const refused = await visitor.postForm('/promo-codes', { code: 'A-SAVE25', _csrf: visitorToken });
    expect(refused.statusCode).toBe(303);
    expect(refused.headers.location).toBe('/login');

    const alice = await createUser(t.db);
    const bob = await createUser(t.db);
    const aliceBrowser = await loggedInBrowser(app, alice.username ?? '');
    const bobBrowser = await loggedInBrowser(app, bob.username ?? '');
    const noToken = await aliceBrowser.postForm('/promo-codes', { code: 'A-SAVE25' });
    expect(noToken.statusCode).toBe(403);
    const bobsToken = await bobBrowser.postForm('/promo-codes', { code: 'A-SAVE25', _csrf: await formTokenOf(aliceBrowser, '/promo-codes') });
    expect(bobsToken.statusCode).toBe(403);
    expect(await t.db.execute('SELECT count(*)::int AS n FROM user_promo_codes')).toEqual(before);

    const ok = await bobBrowser.postForm('/promo-codes', {
      code: 'A-SAVE25',
      userId: alice.id,
      city: alice.city,
      _csrf: await formTokenOf(bobBrowser, '/promo-codes'),
    });
    expect(ok.statusCode).toBe(303);
    expect(await userCodes(t.db, bob.id)).toEqual(['A-SAVE25']);
    expect(await userCodes(t.db, alice.id)).toEqual([]);
    expect((await aliceBrowser.get('/promo-codes')).body).toContain('You have no promo codes yet.');
  });
});
