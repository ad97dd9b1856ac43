// A rider's whole journey in a real browser: sign up, pick a city, start a ride, end it, and see
// the fare in the ride history. Screenshots of the main pages go to screenshots/journey-*.png.
import { rmSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { testConfig } from '../support/config.ts';
import { createTestDatabase } from '../support/databases.ts';
import { createUserRow, createVehicle, insertPromoCode } from '../support/factories.ts';
import { describeBrowser, launchBrowser, screenshotPath } from './support.ts';

describeBrowser('a rider in Chromium', () => {
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let dataDir = '';
  const problems: string[] = [];

  beforeAll(async () => {
    const database = await createTestDatabase('pglite');
    dataDir = database.url.slice('pglite:'.length);
    const owner = await createUserRow(database.db, { city: 'paris', name: 'Pierre <b>Owner</b>' });
    await createVehicle(database.db, {
      city: 'paris',
      type: 'bike',
      ownerId: owner.id,
      location: '12 Rue de Rivoli',
      color: 'blue',
      brand: 'Kona',
    });
    await insertPromoCode(database.db, 'welcome_ride', { description: 'Ten percent off your rides', percent: '10%' });
    const config = testConfig({ HOST: '127.0.0.1', PORT: '0' });
    server = await startServer({ config, db: database.db, logger: false }); // owns the database now
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
    page = await context.newPage();
    page.on('console', (message) => {
      // Form re-renders answer 4xx on purpose; anything else logged as an error is a problem.
      if (message.type() === 'error' && !/status of 4\d\d/.test(message.text())) problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const shot = (name: string) => page.screenshot({ path: screenshotPath(`journey-${name}.png`), fullPage: true });

  it('signs up, rides, pays and finds the fare in the ride history', { timeout: 120_000 }, async () => {
    const url = server?.url ?? '';
    await page.goto(`${url}/`);
    await shot('cities');
    await page.getByRole('link', { name: /sign up/i }).first().click();
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toMatch(/sign up|create/i);

    await page.getByLabel('Full name').fill('Ada <script>alert(1)</script> Rider');
    await page.getByLabel('Home city').selectOption('paris');
    await page.getByLabel('Username').fill(`ada${Date.now().toString(36)}`);
    await page.getByLabel('Password').fill('Velocipede-Harbour-77');
    await page.getByLabel(/Card number/).fill('4111 1111 1111 1111');
    await shot('signup');
    await page.getByRole('button', { name: 'Create account' }).click();

    // Signed up and logged in: the new rider lands on their city's vehicles.
    await page.waitForURL(/\/cities\/paris\/vehicles/);
    await expect(page.getByText('12 Rue de Rivoli').first().isVisible()).resolves.toBe(true);
    await expect(page.getByText('Pierre <b>Owner</b>').first().isVisible()).resolves.toBe(true); // escaped, shown as text
    await shot('city-vehicles');

    // A promo code first, so the receipt shows a discount.
    await page.goto(`${url}/promo-codes`);
    await page.getByLabel(/promo code/i).first().fill('welcome_ride');
    await page.getByRole('button', { name: /^add/i }).first().click();
    await expect(page.getByText(/welcome_ride/).first().isVisible()).resolves.toBe(true);
    await shot('promo-codes');

    // Pick the city from the home page, as a rider would.
    await page.goto(`${url}/`);
    await page.locator('a.city-card', { hasText: 'Paris' }).click();
    await page.waitForURL(/\/cities\/paris\/vehicles/);
    await page.getByRole('link', { name: /start ride/i }).first().click();
    // The price first, in euros: nothing is charged before the rider confirms.
    await page.waitForURL(/\/vehicles\/[0-9a-f-]{36}\/start$/);
    await expect(page.locator('[data-field="unlock"]').textContent()).resolves.toBe('€1.00');
    await shot('confirm');
    await page.getByRole('button', { name: 'Confirm and unlock' }).click();
    await page.waitForURL(/\/rides\/paris\/[0-9a-f-]{36}$/);
    await expect(page.getByText('12 Rue de Rivoli').first().isVisible()).resolves.toBe(true);
    await shot('ride-open');

    await page.getByLabel('Where are you leaving the vehicle?').fill('  5 Place de la Concorde  ');
    await page.getByRole('button', { name: 'End ride and pay' }).click();
    const total = page.locator('[data-field="total"]');
    await expect(total.textContent()).resolves.toMatch(/^€\d+\.\d{2}$/);
    const paid = (await total.textContent()) ?? '';
    await expect(page.getByText('5 Place de la Concorde').first().isVisible()).resolves.toBe(true);
    await expect(page.getByText('welcome_ride').first().isVisible()).resolves.toBe(true);
    await shot('receipt');

    await page.getByRole('link', { name: 'My rides' }).first().click();
    await page.waitForURL(/\/rides$/);
    await expect(page.locator('.fare-link').first().textContent()).resolves.toContain(paid);
    await shot('my-rides');

    await page.getByRole('link', { name: 'Profile' }).first().click();
    await expect(page.getByText('**** **** **** 1111').isVisible()).resolves.toBe(true);
    await expect(page.content()).resolves.not.toContain('4111 1111 1111 1111');
    await expect(page.content()).resolves.not.toContain('<script>alert(1)</script>');
    await shot('profile');

    await page.getByRole('link', { name: 'My vehicles' }).first().click();
    await shot('my-vehicles');

    expect(problems).toEqual([]);
  });
});
