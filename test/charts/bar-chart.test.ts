import { describe, expect, it } from 'vitest';
import { barChart, barChartTable, describeBarChart, type BarChartOptions } from '../../src/charts/index.ts';
import { all, byClass, expectSelfContained, root } from './support.ts';

const perHour: BarChartOptions = {
  title: 'Rides per hour',
  categories: Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0')),
  series: [{ name: 'rides', values: Array.from({ length: 24 }, (_, h) => (h === 3 ? null : h * 10)) }],
  x: { label: 'hour (UTC)' },
  y: { label: 'rides' },
};

const rect = (doc: ReturnType<typeof root>) => byClass(doc, 'movr-chart-series').flatMap((s) => all(s, 'rect'));

describe('barChart', () => {
  it('is an accessible, self-contained SVG image with the figures in its description', () => {
    const svg = barChart(perHour);
    expectSelfContained(svg);
    const doc = root(svg);
    expect(doc.attributes.role).toBe('img');
    expect(all(doc, 'title')[0]?.text).toBe('Rides per hour');
    const desc = all(doc, 'desc')[0]?.text;
    expect(desc).toContain('Bar chart of rides for 24 categories.');
    expect(desc).toContain('02 20, 03 none, 04 40');
  });

  it('draws one bar per value, heights proportional, each with a tooltip', () => {
    const doc = root(barChart(perHour));
    const bars = rect(doc);
    expect(bars).toHaveLength(23);
    const h = (i: number) => Number(bars[i]!.attributes.height);
    // Bars 1 and 2 are 10 and 20 rides: twice as tall (to the rounding of one decimal).
    expect(h(2) / h(1)).toBeCloseTo(2, 1);
    expect(all(bars[0]!, 'title')[0]?.text).toBe('00: 0');
    expect(all(bars.at(-1)!, 'title')[0]?.text).toBe('23: 230');
    // Bars share one baseline.
    const bottoms = new Set(bars.slice(1).map((b) => (Number(b.attributes.y) + Number(b.attributes.height)).toFixed(0)));
    expect(bottoms.size).toBe(1);
  });

  it('labels every category on the x axis and has nice y ticks', () => {
    const doc = root(barChart(perHour));
    const xLabels = all(byClass(doc, 'movr-chart-x')[0]!, 'text').map((t) => t.text);
    expect(xLabels).toEqual([...perHour.categories, 'hour (UTC)']);
    const yLabels = all(byClass(doc, 'movr-chart-y')[0]!, 'text').map((t) => t.text);
    expect(yLabels).toEqual(['0', '50', '100', '150', '200', '250', 'rides']);
  });

  it('groups several series side by side with a legend', () => {
    const doc = root(
      barChart({
        title: 'Rides per city',
        categories: ['new york', 'amsterdam'],
        series: [
          { name: 'started', values: [5, 3] },
          { name: 'ended', values: [4, 3] },
        ],
      }),
    );
    expect(byClass(doc, 'movr-chart-legend-item').map((i) => i.text)).toEqual(['started', 'ended']);
    const bars = rect(doc);
    expect(bars).toHaveLength(4);
    expect(bars[0]!.attributes.fill).not.toBe(bars[2]!.attributes.fill);
    expect(Number(bars[2]!.attributes.x)).toBeGreaterThan(Number(bars[0]!.attributes.x));
    expect(all(bars[2]!, 'title')[0]?.text).toBe('ended, new york: 4');
  });

  it('turns long category labels so they do not overlap', () => {
    const categories = ['washington dc', 'los angeles', 'san francisco', 'amsterdam', 'seattle', 'boston', 'new york', 'paris', 'rome', 'madrid', 'berlin', 'lisbon'];
    const doc = root(barChart({ title: 'per city', categories, series: [{ name: 'n', values: categories.map((_, i) => i) }], width: 400 }));
    const labels = all(byClass(doc, 'movr-chart-x')[0]!, 'text');
    expect(labels.every((l) => (l.attributes.transform ?? '').startsWith('rotate(-40'))).toBe(true);
  });

  it('draws negative values below the zero line', () => {
    const doc = root(barChart({ title: 'change', categories: ['a', 'b'], series: [{ name: 'n', values: [-5, 10] }] }));
    const yLabels = all(byClass(doc, 'movr-chart-y')[0]!, 'text').map((t) => t.text);
    expect(yLabels[0]).toMatch(/^−\d+$/);
    const [neg, pos] = rect(doc);
    expect(Number(neg!.attributes.y)).toBeCloseTo(Number(pos!.attributes.y) + Number(pos!.attributes.height), 0);
  });

  it('draws values too small for ticks on a widened axis', () => {
    const svg = barChart({ title: 'tiny', categories: ['a', 'b'], series: [{ name: 'n', values: [5e-324, 1e-323] }] });
    expect(svg).not.toMatch(/NaN|Infinity/);
    expect(rect(root(svg))).toHaveLength(2);
  });

  it('escapes every label and says "No data" when there is none', () => {
    const evil = '</text><script>x</script>&';
    const svg = barChart({ title: evil, categories: [evil], series: [{ name: evil, values: [1] }], x: { label: evil }, y: { unit: evil } });
    expect(svg).not.toContain('<script>');
    expect(all(root(svg), 'title')[0]?.text).toBe(evil);
    expect(root(barChart({ title: 'empty', categories: [], series: [] })).text).toContain('No data');
    expect(describeBarChart({ title: 'empty', categories: ['a'], series: [{ name: 'n', values: [null] }] })).toBe('Bar chart with no data.');
  });
});

describe('barChartTable', () => {
  it('has a row per category and a column per series', () => {
    expect(
      barChartTable({ title: 'Rides', categories: ['a', 'b'], series: [{ name: 'n', values: [1, null] }], x: { label: 'city' }, y: { unit: 'rides' } }),
    ).toBe(
      '<table class="movr-chart-table"><caption>Rides</caption><thead><tr><th scope="col">city</th><th scope="col">n</th></tr></thead>' +
        '<tbody><tr><th scope="row">a</th><td>1 rides</td></tr><tr><th scope="row">b</th><td></td></tr></tbody></table>',
    );
  });
});
