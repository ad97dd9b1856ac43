// A line chart of one or more series over time (or any numeric x), drawn on the server as an
// SVG string: nice ticks from d3-scale, paths from d3-shape, a legend, and a text alternative
// (<title>, a <desc> that summarises every series, and lineChartTable for the figures).
import { extent, max, min } from 'd3-array';
import { scaleLinear, scaleUtc } from 'd3-scale';
import { line } from 'd3-shape';
import { type Plot, xAxis, yAxis } from './axes.ts';
import { axisTitle, formatTimestamp, formatValue, tickFormatter, timeFormatter, usableDomain } from './format.ts';
import { legend } from './legend.ts';
import { seriesColour, seriesDash } from './palette.ts';
import { attrs, chartId, heading, noData, svgDocument, textWidth } from './svg.ts';

export interface LinePoint {
  x: number;
  /** null (or a non-finite number) leaves a gap in the line. */
  y: number | null;
}

export interface LineSeries {
  name: string;
  points: readonly LinePoint[];
  /** The line's colour; by default the palette's, by the series' place. */
  colour?: string;
  /** The line's stroke-dasharray, null for a solid line; by default by the series' place. */
  dash?: string | null;
}

/** A series' colour and dash: its own, or the palette's by its place. */
function look(series: LineSeries, index: number): { colour: string; dash: string | undefined } {
  return {
    colour: series.colour ?? seriesColour(index),
    dash: series.dash === null ? undefined : (series.dash ?? seriesDash(index)),
  };
}

export interface LineChartOptions {
  title: string;
  /** What the chart shows, for screen readers; a summary of every series is appended. */
  description?: string;
  /** Unique in the page (ids of <title>/<desc> derive from it); by default from the title. */
  id?: string;
  series: readonly LineSeries[];
  x?: {
    /** "time": x is milliseconds since the epoch, shown as UTC times of day. Default "linear". */
    kind?: 'time' | 'linear';
    label?: string;
    unit?: string;
    domain?: readonly [number, number];
  };
  y?: {
    label?: string;
    unit?: string;
    /** By default from 0 (or the lowest value if negative) to the highest, made nice. */
    domain?: readonly [number, number];
  };
  width?: number;
  height?: number;
}

const defined = (p: LinePoint): p is { x: number; y: number } =>
  p.y !== null && Number.isFinite(p.y) && Number.isFinite(p.x);

/** The x and y domains the chart uses. */
function domains(options: LineChartOptions): { x: [number, number]; y: [number, number] } | undefined {
  const points = options.series.flatMap((s) => s.points.filter(defined));
  if (points.length === 0 && !(options.x?.domain && options.y?.domain)) return undefined;
  const [x0, x1] = options.x?.domain ?? (extent(points, (p) => p.x) as [number, number]);
  const yLow = Math.min(0, min(points, (p) => p.y) ?? 0);
  const yHigh = max(points, (p) => p.y) ?? 1;
  const [y0, y1] = options.y?.domain ?? [yLow, yHigh === yLow ? yLow + 1 : yHigh];
  return { x: usableDomain(x0, x1), y: usableDomain(y0, y1) };
}

/** The chart's <desc>: the caller's description, the axes, and each series' range and last value. */
export function describeLineChart(options: LineChartOptions): string {
  const d = domains(options);
  const intro = options.description ? `${options.description.trim().replace(/\.?$/, '.')} ` : '';
  if (!d) return `${intro}Line chart with no data.`;
  const time = options.x?.kind === 'time';
  const xText = (v: number) => (time ? formatTimestamp(v) : formatValue(v, options.x?.unit));
  const yUnit = options.y?.unit;
  const parts = options.series.map((s) => {
    const points = s.points.filter(defined);
    const last = points.at(-1);
    if (!last) return `${s.name}: no values.`;
    const lo = min(points, (p) => p.y) ?? 0;
    const hi = max(points, (p) => p.y) ?? 0;
    return `${s.name}: from ${formatValue(lo, yUnit)} to ${formatValue(hi, yUnit)}, last ${formatValue(last.y, yUnit)}.`;
  });
  const xName = options.x?.label ?? (time ? 'time' : 'x');
  const yName = axisTitle(options.y?.label, yUnit) ?? 'value';
  return (
    `${intro}Line chart of ${yName} against ${xName} from ${xText(d.x[0])} to ${xText(d.x[1])}, ` +
    `${options.series.length} series. ${parts.join(' ')}`
  );
}

/** The chart as an SVG document string. */
export function lineChart(options: LineChartOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 300;
  const id = chartId(options.id, options.title);
  const d = domains(options);
  const time = options.x?.kind === 'time';

  const y = scaleLinear()
    .domain(d?.y ?? [0, 1])
    .nice(5);
  const yTicks = y.ticks(5);
  const yFormat = tickFormatter(y.domain() as [number, number], 5);
  const yLabels = yTicks.map(yFormat);
  const yTitle = axisTitle(options.y?.label, options.y?.unit);

  const legendItems = options.series.map((s, i) => ({ name: s.name, ...look(s, i) }));
  const left = Math.ceil((yTitle ? 28 : 8) + Math.max(16, ...yLabels.map((l) => textWidth(l, 12))) + 8);
  // Room for half of the last x label, which is centred on the plot's right edge at most.
  const right = 24;
  const legendBox = legend(options.series.length > 1 ? legendItems : [], left, 28, width - left - right);
  const top = 30 + legendBox.height + 8;
  const bottom = 24 + (options.x?.label || time ? 20 : 0);
  const plot: Plot = { left, top, width: Math.max(10, width - left - right), height: Math.max(10, height - top - bottom) };
  y.range([plot.top + plot.height, plot.top]);

  const xDomain = d?.x ?? [0, 1];
  const x = time ? scaleUtc().domain(xDomain) : scaleLinear().domain(xDomain);
  x.range([plot.left, plot.left + plot.width]);
  // As many x ticks as fit with their labels side by side.
  let xCount = 10;
  let xTickValues: number[] = [];
  let xFormat: (value: number) => string = String;
  for (; xCount >= 2; xCount--) {
    xTickValues = time ? scaleUtc().domain(xDomain).ticks(xCount).map(Number) : scaleLinear().domain(xDomain).ticks(xCount);
    xFormat = time ? timeFormatter(xTickValues) : tickFormatter(xDomain, xCount);
    const widest = Math.max(0, ...xTickValues.map((v) => textWidth(xFormat(v), 12)));
    if (xTickValues.length * (widest + 16) <= plot.width) break;
  }
  const xTitle = time ? (options.x?.label ?? 'time (UTC)') : axisTitle(options.x?.label, options.x?.unit);

  const body: string[] = [heading(options.title, 8), legendBox.svg];
  body.push(yAxis(plot, yTicks.map((v, i) => ({ at: y(v), label: yLabels[i] ?? '' })), yTitle));
  body.push(xAxis(plot, xTickValues.map((v) => ({ at: x(v), label: xFormat(v) })), xTitle));

  if (!d) {
    body.push(noData(plot.left + plot.width / 2, plot.top + plot.height / 2));
  } else {
    const path = line<LinePoint>()
      .defined(defined)
      .x((p) => x(p.x))
      .y((p) => y(p.y ?? 0))
      .digits(1);
    const lines = options.series.map((s, i) => {
      const { colour, dash } = look(s, i);
      const points = [...s.points].sort((a, b) => a.x - b.x);
      // A point with no defined neighbour would be invisible as a path: it gets a dot.
      const dots = points
        .filter((p, k) => defined(p) && !(points[k - 1] && defined(points[k - 1]!)) && !(points[k + 1] && defined(points[k + 1]!)))
        .map((p) => `<circle${attrs({ cx: x(p.x), cy: y(p.y ?? 0), r: 2.5, fill: colour })}/>`)
        .join('');
      return (
        `<g class="movr-chart-series"${attrs({ 'data-series': s.name })}>` +
        `<path${attrs({ d: path(points) ?? '', fill: 'none', stroke: colour, 'stroke-width': 2, 'stroke-dasharray': dash, 'stroke-linejoin': 'round', 'stroke-linecap': 'round' })}/>` +
        dots +
        '</g>'
      );
    });
    body.push(`<g class="movr-chart-plot" clip-path="url(#${id}-clip)">${lines.join('')}</g>`);
    body.unshift(`<defs><clipPath id="${id}-clip"><rect${attrs({ x: plot.left - 3, y: plot.top - 3, width: plot.width + 6, height: plot.height + 6 })}/></clipPath></defs>`);
  }

  return svgDocument({ id, width, height, title: options.title, description: describeLineChart(options), kind: 'line' }, body.join(''));
}
