// Where things are, in a real Chromium at a phone's width (390 × 844) and a desktop's, on the
// embedded demo data set: the maps (home, city, route), "Nearest to me" typed in and from the
// browser's location, local time and euros on a receipt, the confirmation step, and the stacked
// lists of a phone with no label over its value. Screenshots go to screenshots/where-*.png; with
// MOVR_DOCS_SCREENSHOTS=1 also to docs/images/ (the ones the docs show).
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { fixedDemoPassword } from '../../src/workload/generate.ts';
import { DEMO_INIT_OPTIONS, initWorkload } from '../../src/workload/init.ts';
import { testConfig } from '../support/config.ts';
import { createTestDatabase } from '../support/databases.ts';
import { describeBrowser, launchBrowser, screenshotPath } from './support.ts';

// DOM names used inside page.evaluate() callbacks (the project compiles without the DOM library).
interface Rect { left: number; right: number; top: number; bottom: number; width: number }
interface El {
  getBoundingClientRect(): Rect;
  querySelectorAll(selector: string): ArrayLike<El>;
  childNodes: ArrayLike<unknown>;
  getAttribute(name: string): string | null;
}
declare const document: { querySelectorAll(selector: string): ArrayLike<El>; createRange(): { selectNodeContents(node: El): void; getBoundingClientRect(): Rect } };
declare function getComputedStyle(element: El, pseudo?: string): { left: string; width: string; display: string; paddingLeft: string };

const DOCS_IMAGES = fileURLToPath(new URL('../../docs/images/', import.meta.url));
const PARIS = { latitude: 48.8606, longitude: 2.3376 };

const VIEWPORTS: [name: string, options: BrowserContextOptions][] = [
  ['phone', { viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true }],
  ['desktop', { viewport: { width: 1280, height: 900 } }],
];

describeBrowser('where things are, in Chromium', () => {
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  let dataDir = '';

  beforeAll(async () => {
    const database = await createTestDatabase('pglite');
    dataDir = database.url.slice('pglite:'.length);
    await initWorkload(database.db, { ...DEMO_INIT_OPTIONS, baseTime: new Date('2026-07-01T10:00:00Z'), demoPasswords: 'fixed', drop: true });
    server = await startServer({ config: testConfig({ HOST: '127.0.0.1', PORT: '0' }), db: database.db, logger: false });
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function shot(page: Page, name: string): Promise<void> {
    const file = screenshotPath(`where-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    if (process.env.MOVR_DOCS_SCREENSHOTS === '1') {
      mkdirSync(DOCS_IMAGES, { recursive: true });
      copyFileSync(file, path.join(DOCS_IMAGES, `${name}.png`));
    }
  }

  async function open(options: BrowserContextOptions): Promise<{ page: Page; problems: string[] }> {
    const context = await browser!.newContext({ colorScheme: 'light', ...options });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' && !/status of 4\d\d/.test(message.text())) problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    return { page, problems };
  }

  async function logIn(page: Page, username: string, password: string): Promise<void> {
    await page.goto(`${server!.url}/login`);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: /log in/i }).click();
    await page.waitForURL(/\/cities\//);
  }

  /** Stacked cells whose text starts left of their label's end: the labels printed over the values. */
  function overlaps(page: Page): Promise<string[]> {
    return page.evaluate(() => {
      const found: string[] = [];
      const cells = document.querySelectorAll('.table--stack td[data-label]');
      for (let i = 0; i < cells.length; i++) {
        const cell = cells[i]!;
        const label = getComputedStyle(cell, '::before');
        if (label.display === 'none' || cell.childNodes.length === 0) continue;
        const box = cell.getBoundingClientRect();
        const labelEnd = box.left + Number.parseFloat(label.left) + Number.parseFloat(label.width);
        const range = document.createRange();
        range.selectNodeContents(cell);
        const text = range.getBoundingClientRect();
        if (text.width > 0 && text.left < labelEnd - 0.5) found.push(`${cell.getAttribute('data-label')} #${i}: text at ${text.left}, label to ${labelEnd}`);
      }
      return found;
    });
  }

  for (const [name, options] of VIEWPORTS) {
    describe(`at the ${name}’s width`, () => {
      it('the home page shows the regions and cities on a world map', async () => {
        const { page, problems } = await open(options);
        await page.goto(`${server!.url}/`);
        const map = page.getByRole('img', { name: /Map of the 3 regions and 9 cities/ });
        await expect(map.isVisible()).resolves.toBe(true);
        await expect(page.locator('svg.map--world a').count()).resolves.toBe(9);
        const box = await map.boundingBox();
        expect(box!.width).toBeLessThanOrEqual(options.viewport!.width);
        await shot(page, `home-${name}`);
        expect(problems).toEqual([]);
        await page.context().close();
      });

      it('a city page maps every listed vehicle, and no stacked label overlaps its value', async () => {
        const { page, problems } = await open(options);
        await page.goto(`${server!.url}/cities/paris/vehicles`);
        const rows = await page.locator('[data-testid="vehicle-list"] tbody tr').count();
        expect(rows).toBeGreaterThanOrEqual(5);
        await expect(page.locator('svg.map--city a.map__vehicle').count()).resolves.toBe(rows);
        expect(await overlaps(page)).toEqual([]);
        await shot(page, `city-${name}`);
        // A mark links to its row.
        const first = page.locator('svg.map--city a.map__vehicle').first();
        const id = await first.getAttribute('data-vehicle-id');
        await first.click();
        expect(page.url()).toContain(`#vehicle-${id}`);
        expect(problems).toEqual([]);
        await page.context().close();
      });

      it('"Nearest to me" from the browser’s location lists the nearest vehicles first', async () => {
        const { page, problems } = await open({ ...options, geolocation: PARIS, permissions: ['geolocation'] });
        await page.goto(`${server!.url}/cities/paris/vehicles`);
        const locate = page.getByRole('button', { name: 'Use my location' });
        await expect(locate.isVisible()).resolves.toBe(true); // shown by the script: hidden without it
        await locate.click();
        await page.waitForURL(/lat=48\.86060&long=2\.33760/);
        const distances = await page.locator('[data-field="distance"]').allTextContents();
        expect(distances.length).toBeGreaterThan(0);
        const metres = distances.map((d) => (d.endsWith(' km') ? Number.parseFloat(d) * 1000 : Number.parseFloat(d)));
        expect([...metres].sort((a, b) => a - b)).toEqual(metres);
        expect(await overlaps(page)).toEqual([]);
        await shot(page, `near-me-${name}`);
        expect(problems).toEqual([]);
        await page.context().close();
      });

      it('a demo rider sees the price before unlocking, and a receipt with its route in Paris time and euros', async () => {
        const { page, problems } = await open(options);
        await logIn(page, 'demo-paris', fixedDemoPassword(2));
        await expect(page.getByTestId('logged-in-as').textContent()).resolves.toContain('demo-paris');
        await page.getByRole('link', { name: /start ride/i }).first().click();
        await expect(page.locator('[data-field="unlock"]').textContent()).resolves.toMatch(/^€\d\.\d\d$/);
        await shot(page, `confirm-${name}`);
        await page.goto(`${server!.url}/rides`);
        expect(await overlaps(page)).toEqual([]);
        await shot(page, `rides-${name}`);
        await page.locator('a.fare-link').first().click();
        await expect(page.locator('[data-field="total"]').textContent()).resolves.toMatch(/^€\d+\.\d\d$/);
        await expect(page.getByRole('img', { name: /Route of the ride in Paris/ }).isVisible()).resolves.toBe(true);
        await expect(page.locator('time').first().textContent()).resolves.toMatch(/ CES?T$/);
        await shot(page, `receipt-${name}`);
        // The promo codes' Add buttons keep a usable size.
        await page.goto(`${server!.url}/promo-codes`);
        const sizes = await page.locator('.promo-table button').evaluateAll((buttons) =>
          buttons.slice(0, 5).map((b) => (b as unknown as El).getBoundingClientRect().width),
        );
        for (const width of sizes) expect(width).toBeGreaterThanOrEqual(44);
        expect(await overlaps(page)).toEqual([]);
        if (name === 'phone') await shot(page, 'promo-codes-phone');
        expect(problems).toEqual([]);
        await page.context().close();
      });
    });
  }
});
