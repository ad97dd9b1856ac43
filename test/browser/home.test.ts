// The home page in a real browser: the nine cities with their vehicle counts, visible keyboard
// focus, the navigation for visitors and for logged-in users, and the 404 page. Screenshots:
// screenshots/home.png, home-logged-in.png, home-focus.png and not-found.png.
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { vehicles } from '../../src/db/schema.ts';
import { logIn } from '../../src/web/plugins/auth.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { testConfig } from '../support/config.ts';
import { createTestDatabase } from '../support/databases.ts';
import { createUserRow, vehicleRow } from '../support/factories.ts';
import { describeBrowser, launchBrowser, screenshotPath } from './support.ts';

// The few DOM names used inside page.evaluate() callbacks, which run in the browser (the project
// compiles without the DOM library).
interface DomElement {
  textContent: string | null;
  matches(selector: string): boolean;
  getAttribute(name: string): string | null;
}
declare const document: { activeElement: DomElement | null; body: DomElement };
declare function getComputedStyle(element: DomElement): { backgroundColor: string; outlineStyle: string; outlineWidth: string };

const EXPECTED_CITIES: [string, string][] = [
  ['New York', '2 vehicles'],
  ['Boston', '1 vehicle'],
  ['Washington DC', 'No vehicles'],
  ['San Francisco', 'No vehicles'],
  ['Seattle', 'No vehicles'],
  ['Los Angeles', 'No vehicles'],
  ['Amsterdam', 'No vehicles'],
  ['Paris', '2 vehicles'],
  ['Rome', '1 vehicle'],
];

describeBrowser('home page in Chromium', () => {
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const cleanups: (() => void)[] = [];
  /** Console errors and CSP violations: the page must cause none. */
  const problems: string[] = [];
  /** Addresses a test expects to fail (a 404 page logs its own status as an error). */
  const expectedFailures = new Set<string>();

  beforeAll(async () => {
    const database = await createTestDatabase('pglite');
    cleanups.push(() => rmSync(database.url.slice('pglite:'.length), { recursive: true, force: true }));
    const { id: owner } = await createUserRow(database.db, { city: 'paris', name: 'Pierre Owner' });
    const vehicle = (city: string, status: string) => vehicleRow(randomUUID(), { city, status, ownerId: city === 'paris' ? owner : null });
    await database.db.orm.insert(vehicles).values([
      vehicle('new york', 'available'),
      vehicle('new york', 'in_use'),
      vehicle('new york', 'retired'),
      vehicle('boston', 'available'),
      vehicle('paris', 'available'),
      vehicle('paris', 'lost'),
      vehicle('paris', 'in_use'),
      vehicle('rome', 'available'),
    ]);

    const config = testConfig({ HOST: '127.0.0.1', PORT: '0' });
    // The server owns the database from here on and closes it.
    server = await startServer({
      config,
      db: database.db,
      logger: false,
      beforeListen: (app) => {
        // Test only: log in without the login form (which the pages add later).
        app.get('/test/log-in', async (request, reply) => {
          await logIn(request, { id: owner, city: 'paris' });
          return reply.flash('success', 'Welcome back, Pierre.').redirect('/', 303);
        });
      },
    });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    for (const cleanup of cleanups) cleanup();
  });

  const newPage = async () => {
    if (!browser) throw new Error('no browser');
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
    page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error' && !expectedFailures.has(message.location().url)) {
        problems.push(`${message.text()} (${message.location().url})`);
      }
    });
    page.on('pageerror', (error) => problems.push(error.message));
    return page;
  };

  afterEach(async () => {
    await page?.context().close();
    expect(problems, 'console errors (e.g. CSP violations)').toEqual([]);
  });

  it('lists the nine cities with their vehicle counts', async () => {
    await newPage();
    const response = await page.goto(`${server?.url}/`);
    expect(response?.status()).toBe(200);
    await expect(page.title()).resolves.toBe('Cities · MovR');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Choose your city');

    const cards = page.locator('a.city-card');
    await expect(cards.count()).resolves.toBe(9);
    const shown: [string, string][] = [];
    for (const card of await cards.all()) {
      expect(await card.isVisible()).toBe(true);
      shown.push([
        (await card.locator('.city-card__name').textContent()) ?? '',
        (await card.locator('.city-card__count').textContent()) ?? '',
      ]);
    }
    expect(shown).toEqual(EXPECTED_CITIES);
    await expect(page.getByText('6 vehicles in 9 cities').isVisible()).resolves.toBe(true);

    // The stylesheet applied (no inline styles: the CSP would block them).
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).toBe('rgb(245, 247, 248)');

    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect(nav.getByRole('link', { name: 'Log in' }).isVisible()).resolves.toBe(true);
    await expect(nav.getByRole('link', { name: 'Sign up' }).isVisible()).resolves.toBe(true);
    await expect(nav.getByRole('link', { name: 'My rides' }).count()).resolves.toBe(0);
    await page.screenshot({ path: screenshotPath('home.png'), fullPage: true });
  });

  it('shows keyboard focus: Tab reaches the skip link, then the city links, visibly outlined', async () => {
    await newPage();
    await page.goto(`${server?.url}/`);
    await page.keyboard.press('Tab');
    const first = await page.evaluate(() => document.activeElement?.textContent?.trim());
    expect(first).toBe('Skip to main content');

    let focused: { city: string | null; outline: string; width: string } | undefined;
    for (let presses = 0; presses < 20 && !focused?.city; presses++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => {
        const element = document.activeElement;
        const style = element ? getComputedStyle(element) : undefined;
        return {
          city: element?.matches('a.city-card') ? element.getAttribute('data-city') : null,
          outline: style?.outlineStyle ?? '',
          width: style?.outlineWidth ?? '',
        };
      });
    }
    expect(focused?.city).toBe('new york');
    expect(focused?.outline).toBe('solid');
    expect(focused?.width).toBe('3px');
    await page.screenshot({ path: screenshotPath('home-focus.png') });
  });

  it('shows the member navigation and a flash message once logged in', async () => {
    await newPage();
    await page.goto(`${server?.url}/test/log-in`);
    expect(new URL(page.url()).pathname).toBe('/');
    const flash = page.getByRole('status');
    await expect(flash.textContent()).resolves.toContain('Welcome back, Pierre.');

    const nav = page.getByRole('navigation', { name: 'Main' });
    for (const name of ['Cities', 'My rides', 'My vehicles', 'Promo codes', 'Profile']) {
      await expect(nav.getByRole('link', { name }).isVisible(), name).resolves.toBe(true);
    }
    const logOut = nav.getByRole('button', { name: 'Log out' });
    await expect(logOut.isVisible()).resolves.toBe(true);
    const form = nav.locator('form');
    await expect(form.getAttribute('method')).resolves.toBe('post');
    await expect(form.getAttribute('action')).resolves.toBe('/logout');
    await expect(form.locator('input[name="_csrf"]').inputValue()).resolves.toMatch(/\S{20,}/);
    await expect(nav.getByRole('link', { name: 'Log in' }).count()).resolves.toBe(0);
    await page.screenshot({ path: screenshotPath('home-logged-in.png'), fullPage: true });

    // Shown once: gone on the next page.
    await page.reload();
    await expect(page.getByRole('status').count()).resolves.toBe(0);
  });

  it('answers an unknown address with the friendly 404 page', async () => {
    await newPage();
    expectedFailures.add(`${server?.url}/no/such/page`);
    const response = await page.goto(`${server?.url}/no/such/page`);
    expect(response?.status()).toBe(404);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('We can’t find that page');
    await expect(page.locator('main code').textContent()).resolves.toBe('/no/such/page');
    await expect(page.getByRole('link', { name: 'See all cities' }).isVisible()).resolves.toBe(true);
    await page.screenshot({ path: screenshotPath('not-found.png'), fullPage: true });
  });
});
