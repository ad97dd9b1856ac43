// A bar chart of counts per category (an hour, a day, a city), one or several series side by
// side, drawn on the server as an SVG string with d3-scale's band and linear scales.
import { max, min } from 'd3-array';
import { scaleBand, scaleLinear } from 'd3-scale';
import { type Plot, xAxis, yAxis } from './axes.ts';
import { axisTitle, formatValue, tickFormatter, usableDomain } from './format.ts';
import { legend } from './legend.ts';
import { seriesColour } from './palette.ts';
import { attrs, chartId, escapeXml, heading, noData, svgDocument, textWidth } from './svg.ts';

export interface BarSeries {
  name: string;
  /** One value per category, in the order of `categories`; null for none. */
  values: readonly (number | null)[];
}

export interface BarChartOptions {
  title: string;
  description?: string;
  id?: string;
  /** The bars' labels along the x axis, e.g. hours "00"…"23" or city names. */
  categories: readonly string[];
  series: readonly BarSeries[];
  x?: { label?: string };
  y?: { label?: string; unit?: string; domain?: readonly [number, number] };
  width?: number;
  height?: number;
}

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** The chart's <desc>: the caller's description and every category's values. */
export function describeBarChart(options: BarChartOptions): string {
  const intro = options.description ? `${options.description.trim().replace(/\.?$/, '.')} ` : '';
  const all = options.series.flatMap((s) => s.values.filter(finite));
  if (options.categories.length === 0 || all.length === 0) return `${intro}Bar chart with no data.`;
  const unit = options.y?.unit;
  const yName = axisTitle(options.y?.label, unit) ?? 'value';
  const perSeries = options.series.map((s) => {
    const values = options.categories.map((c, i) => {
      const v = s.values[i];
      return `${c} ${finite(v) ? formatValue(v, unit) : 'none'}`;
    });
    return `${options.series.length > 1 ? `${s.name}: ` : ''}${values.join(', ')}.`;
  });
  return `${intro}Bar chart of ${yName} for ${options.categories.length} categories. ${perSeries.join(' ')}`;
}

/** The chart as an SVG document string. */
export function barChart(options: BarChartOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 300;
  const id = chartId(options.id, options.title);
  const values = options.series.flatMap((s) => s.values.filter(finite));
  const empty = options.categories.length === 0 || values.length === 0;

  const low = Math.min(0, min(values) ?? 0);
  const high = Math.max(0, max(values) ?? 1);
  const y = scaleLinear()
    .domain(options.y?.domain ?? usableDomain(low, high))
    .nice(5);
  const yTicks = y.ticks(5);
  const yFormat = tickFormatter(y.domain() as [number, number], 5);
  const yLabels = yTicks.map(yFormat);
  const yTitle = axisTitle(options.y?.label, options.y?.unit);

  const widest = Math.max(0, ...options.categories.map((c) => textWidth(c, 12)));
  const right = 16;
  const yLeft = Math.ceil((yTitle ? 28 : 8) + Math.max(16, ...yLabels.map((l) => textWidth(l, 12))) + 8);
  // Labels that would not fit side by side are turned by 40°; the first one then reaches left.
  const fits = (left: number) => widest + 6 <= (width - left - right) / Math.max(1, options.categories.length);
  const rotate = !fits(yLeft);
  const left = rotate ? Math.max(yLeft, Math.ceil(widest * Math.cos((40 * Math.PI) / 180)) - 4) : yLeft;
  const plotWidth = Math.max(10, width - left - right);
  const legendBox = legend(
    options.series.length > 1 ? options.series.map((s, i) => ({ name: s.name, colour: seriesColour(i), swatch: 'square' as const })) : [],
    left,
    28,
    plotWidth,
  );
  // Turned labels that would still not fit (one per 16 px) are thinned.
  const band = plotWidth / Math.max(1, options.categories.length);
  const every = rotate ? Math.max(1, Math.ceil(16 / band)) : 1;
  const top = 30 + legendBox.height + 8;
  const bottom = (rotate ? Math.min(80, widest * 0.65 + 20) : 24) + (options.x?.label ? 20 : 0);
  const plot: Plot = { left, top, width: plotWidth, height: Math.max(10, height - top - bottom) };
  y.range([plot.top + plot.height, plot.top]);

  const x = scaleBand<number>()
    .domain(options.categories.map((_, i) => i))
    .range([plot.left, plot.left + plot.width])
    .paddingInner(0.2)
    .paddingOuter(0.1);
  const inner = scaleBand<number>()
    .domain(options.series.map((_, i) => i))
    .range([0, x.bandwidth()])
    .padding(options.series.length > 1 ? 0.05 : 0);

  const body: string[] = [heading(options.title, 8), legendBox.svg];
  body.push(yAxis(plot, yTicks.map((v, i) => ({ at: y(v), label: yLabels[i] ?? '' })), yTitle));
  const xTicks = options.categories
    .map((label, i) => ({ at: (x(i) ?? 0) + x.bandwidth() / 2, label, i }))
    .filter((t) => t.i % every === 0);
  body.push(xAxis(plot, xTicks, options.x?.label, rotate));

  if (empty) {
    body.push(noData(plot.left + plot.width / 2, plot.top + plot.height / 2));
  } else {
    const zero = y(0);
    const bars = options.series.map((s, si) => {
      const rects = options.categories.map((category, ci) => {
        const v = s.values[ci];
        if (!finite(v)) return '';
        const top = Math.min(y(v), zero);
        const label = `${options.series.length > 1 ? `${s.name}, ` : ''}${category}: ${formatValue(v, options.y?.unit)}`;
        return (
          `<rect${attrs({ x: (x(ci) ?? 0) + (inner(si) ?? 0), y: top, width: Math.max(1, inner.bandwidth()), height: Math.max(v === 0 ? 0 : 0.5, Math.abs(y(v) - zero)), fill: seriesColour(si) })}>` +
          `<title>${escapeXml(label)}</title></rect>`
        );
      });
      return `<g class="movr-chart-series"${attrs({ 'data-series': s.name })}>${rects.join('')}</g>`;
    });
    body.push(`<g class="movr-chart-plot">${bars.join('')}</g>`);
  }

  return svgDocument({ id, width, height, title: options.title, description: describeBarChart(options), kind: 'bar' }, body.join(''));
}
