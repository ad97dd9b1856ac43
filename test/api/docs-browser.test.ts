// /docs in a real browser: Swagger UI renders the API reference under the app's strict
// Content-Security-Policy without a single console error or CSP violation, and "Try it out"
// calls the API. Screenshots: screenshots/api-docs.png and api-docs-try-it-out.png.
import { rmSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { describeBrowser, launchBrowser, screenshotPath } from '../browser/support.ts';
import { testConfig } from '../support/config.ts';
import { createTestDatabase } from '../support/databases.ts';

// page.evaluate() callbacks run in the browser; the project compiles without the DOM library.
declare const document: {
  addEventListener(type: string, listener: (event: { violatedDirective: string; blockedURI: string }) => void): void;
};

describeBrowser('API reference (/docs) in Chromium', () => {
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const problems: string[] = [];
  const cleanups: (() => void)[] = [];

  beforeAll(async () => {
    const database = await createTestDatabase('pglite');
    cleanups.push(() => rmSync(database.url.slice('pglite:'.length), { recursive: true, force: true }));
    const config = testConfig({ HOST: '127.0.0.1', PORT: '0' });
    server = await startServer({ config, db: database.db, logger: false });
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    await context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (event) => {
        console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
      });
    });
    page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('requestfailed', (request) => problems.push(`failed: ${request.url()}`));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    for (const cleanup of cleanups) cleanup();
  });

  it('renders every operation of the document, with no console errors or CSP violations', async () => {
    const response = await page.goto(`${server?.url}/docs`, { waitUntil: 'networkidle' });
    expect(response?.status()).toBe(200);
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe');
    await page.waitForSelector('.opblock');
    await expect(page.title()).resolves.toBe('MovR API reference');
    await expect(page.locator('.info .title').first().textContent()).resolves.toContain('MovR API');
    // Swagger UI shows an operation once under each of its tags.
    const documented = (await (await fetch(`${server?.url}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { tags?: string[] }>>;
    };
    const blocks = Object.values(documented.paths)
      .flatMap((item) => Object.values(item))
      .reduce((n, operation) => n + (operation.tags?.length ?? 1), 0);
    expect(blocks).toBeGreaterThan(20);
    await expect(page.locator('.opblock').count()).resolves.toBe(blocks);
    // Swagger UI's stylesheet applied: the operation blocks are laid out and coloured.
    const color = await page.locator('.opblock-get .opblock-summary-method').first().evaluate((element) => {
      return (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(element).backgroundColor;
    });
    expect(color).not.toBe('rgba(0, 0, 0, 0)');
    await page.screenshot({ path: screenshotPath('api-docs.png') });
    expect(problems).toEqual([]);
  });

  it('"Try it out" calls the API from the page', async () => {
    const cities = page.locator('.opblock').filter({ hasText: '/api/v1/cities' }).first();
    await cities.locator('.opblock-summary').click();
    await cities.getByRole('button', { name: 'Try it out' }).click();
    await cities.getByRole('button', { name: 'Execute' }).click();
    const status = cities.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor();
    await expect(status.textContent()).resolves.toContain('200');
    await expect(cities.locator('.live-responses-table .microlight').first().textContent()).resolves.toContain('washington dc');
    await cities.scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshotPath('api-docs-try-it-out.png') });
    expect(problems).toEqual([]);
  });
});
