// `movr workload report`: one self-contained HTML page of charts from real run files; several
// runs on the same axes; unfinished and wrong files.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RunFileError, type LoadedRun, loadRunFiles, parseRunFile, renderReport } from '../../src/workload/html-report.ts';
import { JsonReport } from '../../src/workload/report.ts';
import { all, byClass, root } from '../charts/support.ts';
import { runMovrInProcess, scratchDir } from '../support/cli.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { loadRunData, recordedRun } from './support.ts';

/** The page's <svg> elements, each parsed (and so checked to be well-formed XML). */
function svgsOf(html: string) {
  return [...html.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => root(m[0]));
}

/** The page's sections of one operation each: name and the SVGs in it. */
function operationSections(html: string) {
  return [...html.matchAll(/<section id="op-\d+" class="operation" data-operation="([^"]+)">([\s\S]*?)<\/section>/g)].map((m) => ({
    operation: m[1]!,
    svgs: svgsOf(m[2]!),
  }));
}

function expectSelfContainedPage(html: string): void {
  expect(html.startsWith('<!doctype html>')).toBe(true);
  expect(html).not.toMatch(/<script|<link|<img|<iframe|\ssrc=|@import|url\((?!#)/i);
  // No address outside the page but the SVG namespace.
  expect(html.replaceAll('xmlns="http://www.w3.org/2000/svg"', '')).not.toMatch(/https?:\/\//);
  expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'`);
}

describeEachDatabase('movr workload report', (t) => {
  let first: LoadedRun;
  let second: LoadedRun;
  beforeAll(async () => {
    await loadRunData(t.db);
    const dir = scratchDir('movr-report-');
    const a = await recordedRun(t.db, { file: path.join(dir, 'before.json'), concurrency: 2 });
    const b = await recordedRun(t.db, { file: path.join(dir, 'after.json'), concurrency: 4, durationMs: 1500 });
    [first, second] = loadRunFiles([a.file, b.file]) as [LoadedRun, LoadedRun];
  }, 120_000);

  it('draws a real run: a section per operation with its ops/s and its p50/p95/p99 chart, and the summary table', () => {
    const html = renderReport([first], { generatedAt: new Date(Date.UTC(2026, 11, 1, 15)) });
    expectSelfContainedPage(html);
    expect(html).toContain('<title>MovR workload: before</title>');
    const ran = first.data.summary!.operations.filter((op) => op.count > 0).map((op) => op.operation);
    const sections = operationSections(html);
    expect(sections.map((s) => s.operation)).toEqual(expect.arrayContaining(ran));
    expect(sections.length).toBe(new Set(first.data.series.flatMap((i) => Object.keys(i.operations))).size);
    for (const section of sections) {
      expect(section.svgs, section.operation).toHaveLength(2);
      const [ops, latency] = section.svgs as [ReturnType<typeof root>, ReturnType<typeof root>];
      for (const svg of section.svgs) expect(svg.attributes.role).toBe('img');
      expect(all(ops, 'title')[0]?.text).toBe(`${section.operation}: operations per second`);
      expect(all(latency, 'title')[0]?.text).toBe(`${section.operation}: latency p50, p95, p99`);
      // An operation with no operation in any interval (none, or only after the last tick) has an empty latency chart.
      if (first.data.series.some((step) => (step.operations[section.operation]?.ops ?? 0) > 0)) {
        expect(byClass(latency, 'movr-chart-series').map((s) => s.attributes['data-series'])).toEqual(['p50', 'p95', 'p99']);
      } else {
        expect(latency.text).toContain('No data');
      }
      // One point per interval of the run in the throughput line.
      const d = all(byClass(ops, 'movr-chart-series')[0]!, 'path')[0]!.attributes.d ?? '';
      expect((d.match(/[ML]/g) ?? []).length).toBe(first.data.series.length);
    }
    // The summary: a row per operation that ran and the total, with the run's figures.
    const total = first.data.summary!.total;
    expect(html).toMatch(new RegExp(`<tr class="total"><th scope="row">total</th><td>${new Intl.NumberFormat('en-US').format(total.count)}</td>`));
    for (const op of ran) expect(html).toContain(`<th scope="row">${op}</th>`);
    expect(html).toMatch(/Retries \(SQLSTATE 40001\): \d+/);
    // Every chart has its figures as a table too.
    expect(html.match(/<table class="movr-chart-table">/g)?.length).toBe(sections.length * 2 + 1);
  });

  it('draws several runs on the same axes: a line per run, colour by run, dash by percentile', () => {
    const html = renderReport([first, second]);
    expectSelfContainedPage(html);
    expect(html).toContain('<title>MovR workload: before vs after</title>');
    const [all0] = svgsOf(html.slice(html.indexOf('<section id="all"')));
    expect(byClass(all0!, 'movr-chart-legend-item').map((i) => i.text)).toEqual(['before', 'after']);
    const readSection = operationSections(html).find((s) => s.operation === 'read_vehicles')!;
    const latency = readSection.svgs[1]!;
    const series = byClass(latency, 'movr-chart-series').map((s) => ({ name: s.attributes['data-series'], path: all(s, 'path')[0]!.attributes }));
    expect(series.map((s) => s.name)).toEqual(['before p50', 'before p95', 'before p99', 'after p50', 'after p95', 'after p99']);
    expect(new Set(series.slice(0, 3).map((s) => s.path.stroke)).size).toBe(1);
    expect(series[0]!.path.stroke).not.toBe(series[3]!.path.stroke);
    expect(series.map((s) => s.path['stroke-dasharray'])).toEqual([undefined, '6 3', '2 3', undefined, '6 3', '2 3']);
    // Both runs' x axes start at 0 and reach the longer run's end.
    const xLabels = all(byClass(latency, 'movr-chart-x')[0]!, 'text').map((l) => l.text);
    expect(xLabels[0]).toBe('0.0');
    expect(xLabels.at(-1)).toBe('time since the start (s)');
  });

  it('draws a run that was killed before its summary, up to where it stopped', () => {
    const file = path.join(scratchDir('movr-report-'), 'killed.json');
    const report = new JsonReport(file);
    for (const step of first.data.series) {
      report.interval(Object.entries(step.operations).map(([operation, f]) => ({ operation, elapsedSec: step.elapsedSec, opsPerSecCum: 0, ...f })) as never);
    }
    report.close();
    const text = readFileSync(file, 'utf8');
    expect(() => JSON.parse(text)).toThrow();
    const killed = parseRunFile(file, `${text}\n{"elapsedSec": 9, "operat`);
    expect(killed.unfinished).toBe(true);
    expect(killed.data.series).toHaveLength(first.data.series.length);
    const html = renderReport([killed]);
    expect(html).toContain('No summary: the run stopped before it wrote one');
    expect(operationSections(html).length).toBeGreaterThan(0);
  });
});

describe('movr workload report, the command', () => {
  it('writes the page and says so; a file that is not a run file is an error (exit 1) that names it', async () => {
    const dir = scratchDir('movr-report-');
    const run = path.join(dir, 'tiny.json');
    writeFileSync(
      run,
      JSON.stringify({
        series: [1, 2, 3].map((s) => ({
          elapsedSec: s,
          operations: { read_vehicles: { ops: 10 * s, opsPerSecInst: 10 * s, opsPerSecCum: 10, p50Ms: 1, p95Ms: 2, p99Ms: 3, maxMs: 4, errors: 0 } },
        })),
      }),
    );
    const out = path.join(dir, 'report.html');
    const ok = await runMovrInProcess(['workload', 'report', run, '--out', out, '--title', 'Tiny <run>']);
    expect(ok.code, ok.err.join('')).toBe(0);
    expect(ok.out.join('')).toBe(`wrote ${out} (1 run)\n`);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('<title>Tiny &lt;run&gt;</title>');
    expect(operationSections(html).map((s) => s.operation)).toEqual(['read_vehicles']);

    const notRun = path.join(dir, 'package.json');
    writeFileSync(notRun, '{"name": "x"}');
    const bad = await runMovrInProcess(['workload', 'report', notRun, '--out', out]);
    expect(bad.code).toBe(1);
    expect(bad.err.join('')).toContain(`${notRun}: is not a movr workload run file (series:`);
    const missing = await runMovrInProcess(['workload', 'report', path.join(dir, 'nope.json'), '--out', out]);
    expect(missing.code).toBe(1);
    expect(missing.err.join('')).toContain('nope.json: cannot be read (ENOENT)');
    const noOut = await runMovrInProcess(['workload', 'report', run]);
    expect(noOut.code).toBe(2);
  });

  it('refuses to draw nothing', () => {
    expect(() => renderReport([])).toThrow(RangeError);
    expect(() => parseRunFile('x.json', 'not json')).toThrow(RunFileError);
  });
});
