import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeLineChart, lineChart, lineChartTable, type LineChartOptions } from '../../src/charts/index.ts';
import { all, byClass, expectSelfContained, root } from './support.ts';

const T0 = Date.UTC(2026, 11, 1, 14, 0, 0);

const latency: LineChartOptions = {
  title: 'Start ride latency',
  description: 'Latency percentiles of start ride, per second',
  series: ['p50', 'p95', 'p99'].map((name, k) => ({
    name,
    points: Array.from({ length: 60 }, (_, i) => ({ x: T0 + i * 10_000, y: (k + 1) * (10 + (i % 7)) })),
  })),
  x: { kind: 'time' },
  y: { label: 'latency', unit: 'ms' },
};

describe('lineChart', () => {
  it('is an accessible, self-contained SVG image', () => {
    const svg = lineChart(latency);
    expectSelfContained(svg);
    const doc = root(svg);
    expect(doc.name).toBe('svg');
    expect(doc.attributes.role).toBe('img');
    expect(doc.attributes.xmlns).toBe('http://www.w3.org/2000/svg');
    const [title] = all(doc, 'title');
    const [desc] = all(doc, 'desc');
    expect(title?.text).toBe('Start ride latency');
    expect(doc.attributes['aria-labelledby']).toBe(title?.attributes.id);
    expect(doc.attributes['aria-describedby']).toBe(desc?.attributes.id);
    expect(desc?.text).toContain('Latency percentiles of start ride, per second.');
    expect(desc?.text).toContain('p99: from 30 ms to 48 ms, last 39 ms.');
    expect(desc?.text).toContain('2026-12-01 14:00:00 UTC to 2026-12-01 14:09:50 UTC');
  });

  it('draws one line per series with a legend entry each, in distinct colours and dashes', () => {
    const doc = root(lineChart(latency));
    const series = byClass(doc, 'movr-chart-series');
    expect(series.map((s) => s.attributes['data-series'])).toEqual(['p50', 'p95', 'p99']);
    const paths = series.map((s) => all(s, 'path')[0]!);
    expect(new Set(paths.map((p) => p.attributes.stroke)).size).toBe(3);
    expect(new Set(paths.map((p) => p.attributes['stroke-dasharray'] ?? 'solid')).size).toBe(3);
    for (const p of paths) expect(p.attributes.d).toMatch(/^M[\d.,]+(L[\d.,]+){59}$/);
    expect(byClass(doc, 'movr-chart-legend-item').map((i) => i.text)).toEqual(['p50', 'p95', 'p99']);
  });

  it('has nice y ticks from zero with the unit in the axis title, and UTC times on x', () => {
    const doc = root(lineChart(latency));
    const [yAxis] = byClass(doc, 'movr-chart-y');
    const labels = all(yAxis!, 'text').map((t) => t.text);
    expect(labels).toEqual(['0', '10', '20', '30', '40', '50', 'latency (ms)']);
    const [xAxis] = byClass(doc, 'movr-chart-x');
    const xLabels = all(xAxis!, 'text').map((t) => t.text);
    expect(xLabels.at(-1)).toBe('time (UTC)');
    expect(xLabels.slice(0, -1)).toEqual(['14:00', '14:01', '14:02', '14:03', '14:04', '14:05', '14:06', '14:07', '14:08', '14:09']);
  });

  it('keeps every line inside the plot: the top tick is at or above the highest value', () => {
    const svg = lineChart({ ...latency, height: 300 });
    const doc = root(svg);
    const [yAxis] = byClass(doc, 'movr-chart-y');
    const gridTop = Math.min(...all(yAxis!, 'line').map((l) => Number(l.attributes.y1)));
    const ys = byClass(doc, 'movr-chart-series').flatMap((s) =>
      [...(all(s, 'path')[0]!.attributes.d ?? '').matchAll(/[ML][\d.]+,([\d.]+)/g)].map((m) => Number(m[1])),
    );
    expect(Math.min(...ys)).toBeGreaterThanOrEqual(gridTop - 0.1);
  });

  it('leaves a gap for missing values and marks an isolated point', () => {
    const doc = root(
      lineChart({
        title: 'gaps',
        series: [{ name: 'ops', points: [{ x: 0, y: 1 }, { x: 1, y: 2 }, { x: 2, y: null }, { x: 3, y: 3 }, { x: 4, y: Number.NaN }] }],
      }),
    );
    const [path] = all(doc, 'path');
    expect(path?.attributes.d).toMatch(/^M[\d.,]+L[\d.,]+(M[\d.,]+Z)?$/);
    expect(all(doc, 'circle')).toHaveLength(1);
  });

  it('shows a single series without a legend and an empty chart as "No data"', () => {
    const one = root(lineChart({ title: 'ops', series: [{ name: 'ops', points: [{ x: 0, y: 1 }, { x: 1, y: 1 }] }] }));
    expect(byClass(one, 'movr-chart-legend-item')).toHaveLength(0);
    const none = lineChart({ title: 'nothing yet', series: [{ name: 'ops', points: [] }] });
    expect(root(none).text).toContain('No data');
    expect(describeLineChart({ title: 'x', series: [] })).toBe('Line chart with no data.');
  });

  it('escapes every label and gives unique, safe ids', () => {
    const evil = '<script>alert(1)</script> & "quotes"';
    const svg = lineChart({
      id: 'run "a" <b>',
      title: evil,
      description: evil,
      series: [{ name: evil, points: [{ x: 0, y: 1 }, { x: 1, y: 2 }] }, { name: 'b', points: [] }],
      x: { label: evil, unit: evil },
      y: { label: evil, unit: evil },
    });
    expect(svg).not.toContain('<script>');
    expectSelfContained(svg);
    const doc = root(svg);
    expect(doc.attributes.id).toBe('run-a-b');
    expect(all(doc, 'title')[0]?.text).toBe(evil);
    expect(byClass(doc, 'movr-chart-legend-item')[0]?.text).toBe(evil);
  });

  it('wraps a long legend into rows that stay inside the chart', () => {
    const series = Array.from({ length: 12 }, (_, i) => ({ name: `operation number ${i}`, points: [{ x: 0, y: i }, { x: 1, y: i }] }));
    const doc = root(lineChart({ title: 'many', series, width: 500 }));
    const rows = new Set(byClass(doc, 'movr-chart-legend-item').map((i) => all(i, 'text')[0]!.attributes.y));
    expect(rows.size).toBeGreaterThan(2);
    for (const item of byClass(doc, 'movr-chart-legend-item')) {
      expect(Number(all(item, 'text')[0]!.attributes.x)).toBeLessThan(500);
    }
  });

  it('lets a series choose its colour and dash (solid with null)', () => {
    const doc = root(
      lineChart({
        title: 'runs',
        series: [
          { name: 'a p50', colour: '#123456', dash: null, points: [{ x: 0, y: 1 }, { x: 1, y: 2 }] },
          { name: 'a p99', colour: '#123456', dash: '2 3', points: [{ x: 0, y: 3 }, { x: 1, y: 4 }] },
        ],
      }),
    );
    const paths = byClass(doc, 'movr-chart-series').map((s) => all(s, 'path')[0]!.attributes);
    expect(paths.map((p) => [p.stroke, p['stroke-dasharray']])).toEqual([
      ['#123456', undefined],
      ['#123456', '2 3'],
    ]);
    const swatches = byClass(doc, 'movr-chart-legend-item').map((i) => all(i, 'line')[0]!.attributes);
    expect(swatches.map((l) => [l.stroke, l['stroke-dasharray']])).toEqual([
      ['#123456', undefined],
      ['#123456', '2 3'],
    ]);
  });

  it('uses the domains it is given and a linear x with its unit', () => {
    const doc = root(
      lineChart({
        title: 'elapsed',
        series: [{ name: 'a', points: [{ x: 0, y: 5 }, { x: 30, y: 7 }] }],
        x: { label: 'elapsed', unit: 's', domain: [0, 60] },
        y: { domain: [0, 100] },
      }),
    );
    const xLabels = all(byClass(doc, 'movr-chart-x')[0]!, 'text').map((t) => t.text);
    expect(xLabels).toContain('60');
    expect(xLabels.at(-1)).toBe('elapsed (s)');
    expect(all(byClass(doc, 'movr-chart-y')[0]!, 'text').map((t) => t.text)).toContain('100');
  });

  it('draws data too narrow for ticks (equal or subnormal values) on a widened axis', () => {
    for (const points of [
      [{ x: 1e-323, y: 0 }, { x: 5e-324, y: 0 }],
      [{ x: 5, y: 5e-324 }, { x: 6, y: 1e-323 }],
      [{ x: 1e9, y: 1 }, { x: 1e9, y: 1 }],
    ]) {
      const svg = lineChart({ title: 'narrow', series: [{ name: 'a', points }] });
      expect(svg).not.toMatch(/NaN|Infinity/);
      expect(all(byClass(root(svg), 'movr-chart-x')[0]!, 'text').length).toBeGreaterThan(1);
    }
  });

  it('is well-formed and deterministic for any data', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            name: fc.string(),
            points: fc.array(fc.record({ x: fc.double({ min: -1e9, max: 1e9, noNaN: true }), y: fc.option(fc.double({ min: -1e9, max: 1e9 })) })),
          }),
          { maxLength: 5 },
        ),
        (series) => {
          const options = { title: 'any', series };
          const svg = lineChart(options);
          root(svg);
          expect(svg).not.toMatch(/NaN|Infinity/);
          expect(lineChart(options)).toBe(svg);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('lineChartTable', () => {
  it('lists every x with each series value, escaped', () => {
    const html = lineChartTable({
      title: 'a & b',
      series: [
        { name: '<p50>', points: [{ x: T0, y: 1.5 }, { x: T0 + 1000, y: 2 }] },
        { name: 'p99', points: [{ x: T0 + 1000, y: 9 }] },
      ],
      x: { kind: 'time' },
      y: { unit: 'ms' },
    });
    expect(html).toBe(
      '<table class="movr-chart-table"><caption>a &amp; b</caption><thead><tr><th scope="col">time (UTC)</th><th scope="col">&lt;p50&gt;</th><th scope="col">p99</th></tr></thead>' +
        '<tbody><tr><th scope="row">2026-12-01 14:00:00</th><td>1.5 ms</td><td></td></tr><tr><th scope="row">2026-12-01 14:00:01</th><td>2 ms</td><td>9 ms</td></tr></tbody></table>',
    );
  });
});
