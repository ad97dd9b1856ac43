// The operators' dashboard in a real browser, on the demo data set: charts drawn, figures shown,
// no horizontal scrolling at a phone's 390 px. Screenshots go to screenshots/operator-*.png, and
// with MOVR_DOCS_SCREENSHOTS=1 to docs/images/ (the ones docs/operators.md shows).
import { mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { grantOperator } from '../../src/movr/operators.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { DEFAULT_INIT_OPTIONS, initWorkload } from '../../src/workload/init.ts';
import { testConfig } from '../support/config.ts';
import { createTestDatabase } from '../support/databases.ts';
import { TEST_PASSWORD, createUser } from '../support/factories.ts';
import { describeBrowser, launchBrowser, screenshotPath } from './support.ts';

const DOCS_IMAGES = fileURLToPath(new URL('../../docs/images/', import.meta.url));

function shotPath(name: string): string {
  if (process.env.MOVR_DOCS_SCREENSHOTS !== '1') return screenshotPath(name);
  mkdirSync(DOCS_IMAGES, { recursive: true });
  return `${DOCS_IMAGES}${name}`;
}

describeBrowser('the operators’ dashboard in Chromium', () => {
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  let dataDir = '';
  const username = 'olga.operator';

  beforeAll(async () => {
    const database = await createTestDatabase('pglite');
    dataDir = database.url.slice('pglite:'.length);
    const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
    await initWorkload(database.db, { ...DEFAULT_INIT_OPTIONS, numRides: 1500, drop: true, baseTime: hour, demoPasswords: 'fixed' });
    await createUser(database.db, { username, city: 'new york', name: 'Olga Operator' });
    await grantOperator(database.db, username);
    server = await startServer({ config: testConfig({ HOST: '127.0.0.1', PORT: '0' }), db: database.db, logger: false });
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('shows a region’s charts and figures on a desktop and on a phone', { timeout: 120_000 }, async () => {
    const url = server?.url ?? '';
    for (const [name, width, height] of [['operator-dashboard.png', 1280, 900], ['operator-dashboard-phone.png', 390, 844]] as const) {
      const context = await browser!.newContext({ viewport: { width, height }, colorScheme: 'light', deviceScaleFactor: 1 });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      await page.goto(`${url}/login?next=${encodeURIComponent('/operator/dashboard?region=us-east1')}`);
      await page.getByLabel('Username').fill(username);
      await page.getByLabel('Password').fill(TEST_PASSWORD);
      await page.getByRole('button', { name: /log in/i }).click();
      await page.waitForURL(/\/operator\/dashboard/);
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('US East');
      await expect(page.locator('figure.chart svg[role="img"]').count()).resolves.toBe(3);
      const rides = Number((await page.locator('[data-stat="rides"]').textContent())?.replace(/,/g, ''));
      expect(rides).toBeGreaterThan(0);
      const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
      if (overflow > 0) {
        console.log(await page.evaluate(`[...document.querySelectorAll('*')].filter((e) => e.getBoundingClientRect().right > ${width}).slice(0, 12).map((e) => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).join('\\n')`));
      }
      expect(overflow, `${width}px`).toBeLessThanOrEqual(0);
      // The whole page in one viewport (a stitched full-page capture can smear stacked tables).
      await page.setViewportSize({ width, height: Number(await page.evaluate('document.documentElement.scrollHeight')) });
      await page.screenshot({ path: shotPath(name) });
      expect(problems).toEqual([]);
      await context.close();
    }
  });
});
