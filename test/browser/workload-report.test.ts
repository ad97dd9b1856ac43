// The workload report in a real browser: opened from a file, it fetches nothing, every chart is
// drawn with its title and its lines inside the plot. Screenshots: screenshots/workload-report.png
// and workload-report-operation.png (docs/images/workload-report.png is one of those).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadRunFiles, renderReport } from '../../src/workload/html-report.ts';
import { scratchDir } from '../support/cli.ts';
import { createTestDatabase } from '../support/databases.ts';
import { loadRunData, recordedRun } from '../workload/support.ts';
import { describeBrowser, launchBrowser, screenshotPath } from './support.ts';

interface Box {
  width: number;
  height: number;
}
interface DomElement {
  getBoundingClientRect(): Box & { top: number; left: number; right: number; bottom: number };
  querySelectorAll(selector: string): ArrayLike<DomElement>;
  getAttribute(name: string): string | null;
  textContent: string | null;
}
declare const document: { querySelectorAll(selector: string): ArrayLike<DomElement> };

describeBrowser('workload report in Chromium', () => {
  let browser: Browser | undefined;
  let reportFile: string;

  beforeAll(async () => {
    const database = await createTestDatabase('pglite');
    try {
      await loadRunData(database.db);
      const dir = scratchDir('movr-report-browser-');
      const before = await recordedRun(database.db, { file: path.join(dir, 'before.json'), concurrency: 2, durationMs: 3000 });
      const after = await recordedRun(database.db, { file: path.join(dir, 'after.json'), concurrency: 4, durationMs: 3000 });
      reportFile = path.join(dir, 'report.html');
      writeFileSync(reportFile, renderReport(loadRunFiles([before.file, after.file])));
    } finally {
      await database.destroy();
    }
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('opens from a file without fetching anything, and draws every chart', async () => {
    const page = await browser!.newPage({ viewport: { width: 1240, height: 900 } });
    const fetched: string[] = [];
    const problems: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith('file://')) fetched.push(request.url());
    });
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`file://${reportFile}`);
    expect(fetched).toEqual([]);
    expect(problems).toEqual([]);

    const charts = await page.evaluate(() =>
      Array.from(document.querySelectorAll('svg[role="img"]'), (svg) => {
        const box = svg.getBoundingClientRect();
        // The plot: from the top grid line to the x axis's base line.
        const base = svg.querySelectorAll('.movr-chart-x line')[0]!.getBoundingClientRect();
        const grid = Array.from(svg.querySelectorAll('.movr-chart-y line'), (l) => l.getBoundingClientRect().top);
        const plot = { left: base.left, right: base.right, bottom: base.bottom, top: Math.min(...grid) };
        // A lone point's path ("M x,y Z") has no extent (its dot is a <circle>): left out.
        const lines = Array.from(svg.querySelectorAll('.movr-chart-series path'), (p) => p.getBoundingClientRect()).filter(
          (l) => l.width > 0 || l.height > 0,
        );
        return {
          title: svg.querySelectorAll('title')[0]?.textContent ?? '',
          width: box.width,
          height: box.height,
          lines: lines.length,
          inside: lines.every((l) => l.left >= plot.left - 2 && l.right <= plot.right + 2 && l.top >= plot.top - 2 && l.bottom <= plot.bottom + 2),
        };
      }),
    );
    const sections = await page.locator('section.operation').count();
    expect(charts.length).toBe(1 + 2 * sections);
    for (const chart of charts) {
      expect(chart.width, chart.title).toBeGreaterThan(300);
      expect(chart.height, chart.title).toBeGreaterThan(150);
      expect(chart.inside, chart.title).toBe(true);
    }
    const throughput = charts.find((c) => c.title === 'read_vehicles: operations per second')!;
    expect(throughput.lines).toBe(2);
    const latency = charts.find((c) => c.title === 'read_vehicles: latency p50, p95, p99')!;
    expect(latency.lines).toBe(6);
    // The figures are there as text too, one click away.
    await page.locator('[data-operation="read_vehicles"] details summary').first().click();
    await expect(page.locator('[data-operation="read_vehicles"] details table').first().isVisible()).resolves.toBe(true);

    await page.screenshot({ path: screenshotPath('workload-report.png') });
    await page.locator('[data-operation="start_ride"]').screenshot({ path: screenshotPath('workload-report-operation.png') });
    await page.close();
  });
});
