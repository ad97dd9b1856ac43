// The charts' figures as HTML tables: the text alternative a page puts beside (or in a
// <details> under) a chart, for screen readers, copying and printing.
import type { BarChartOptions } from './bar-chart.ts';
import { formatTimestamp, formatValue } from './format.ts';
import type { LineChartOptions } from './line-chart.ts';
import { escapeXml } from './svg.ts';

function table(caption: string, head: readonly string[], rows: readonly (readonly string[])[]): string {
  const th = head.map((h) => `<th scope="col">${escapeXml(h)}</th>`).join('');
  const tr = rows
    .map((row) => `<tr>${row.map((cell, i) => (i === 0 ? `<th scope="row">${escapeXml(cell)}</th>` : `<td>${escapeXml(cell)}</td>`)).join('')}</tr>`)
    .join('');
  return `<table class="movr-chart-table"><caption>${escapeXml(caption)}</caption><thead><tr>${th}</tr></thead><tbody>${tr}</tbody></table>`;
}

/** A line chart's points: one row per x value, one column per series ("" where a series has none). */
export function lineChartTable(options: LineChartOptions): string {
  const time = options.x?.kind === 'time';
  const xs = [...new Set(options.series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const byX = options.series.map((s) => new Map(s.points.map((p) => [p.x, p.y])));
  const unit = options.y?.unit;
  const xHead = time ? 'time (UTC)' : (options.x?.label ?? 'x') + (options.x?.unit ? ` (${options.x.unit})` : '');
  const rows = xs.map((x) => [
    time ? formatTimestamp(x).replace(' UTC', '') : formatValue(x),
    ...byX.map((m) => {
      const y = m.get(x);
      return y === undefined || y === null || !Number.isFinite(y) ? '' : formatValue(y, unit);
    }),
  ]);
  return table(options.title, [xHead, ...options.series.map((s) => s.name)], rows);
}

/** A bar chart's values: one row per category, one column per series. */
export function barChartTable(options: BarChartOptions): string {
  const unit = options.y?.unit;
  const rows = options.categories.map((category, i) => [
    category,
    ...options.series.map((s) => {
      const v = s.values[i];
      return v === undefined || v === null || !Number.isFinite(v) ? '' : formatValue(v, unit);
    }),
  ]);
  return table(options.title, [options.x?.label ?? 'category', ...options.series.map((s) => s.name)], rows);
}
