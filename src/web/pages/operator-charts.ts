// The dashboard's charts, drawn on the server by the shared chart module (src/charts/): rides
// and revenue per hour (a line over time) or per day (bars), and for a region, revenue per city.
// Each chart comes with its <desc> and a table of the same figures as its text alternative.
import { type BarChartOptions, type LineChartOptions, barChart, barChartTable, lineChart, lineChartTable } from '../../charts/index.ts';
import type { Dashboard } from '../../movr/dashboard.ts';
import { cityLabel } from './format.ts';

export interface PageChart {
  readonly id: string;
  readonly title: string;
  /** The SVG, safe to inline (every label escaped by the chart module). */
  readonly svg: string;
  /** The same figures as an HTML table. */
  readonly table: string;
}

const dayLabel = (at: Date) => at.toISOString().slice(5, 10);

function seriesChart(figures: Dashboard, id: string, title: string, name: string, unit: string | undefined, value: (p: Dashboard['series'][number]) => number): PageChart {
  if (figures.bucket === 'hour') {
    const options: LineChartOptions = {
      id,
      title,
      description: `${title}, ${figures.series.length} hours from ${figures.period.from.toISOString().slice(0, 16)} UTC`,
      series: [{ name, points: figures.series.map((p) => ({ x: p.at.getTime(), y: value(p) })) }],
      x: { kind: 'time', label: 'hour (UTC)' },
      y: { label: name, ...(unit ? { unit } : {}) },
    };
    return { id, title, svg: lineChart(options), table: lineChartTable(options) };
  }
  const options: BarChartOptions = {
    id,
    title,
    description: `${title}, ${figures.series.length} days`,
    categories: figures.series.map((p) => dayLabel(p.at)),
    series: [{ name, values: figures.series.map(value) }],
    x: { label: 'day (UTC)' },
    y: { label: name, ...(unit ? { unit } : {}) },
  };
  return { id, title, svg: barChart(options), table: barChartTable(options) };
}

/** The charts of a dashboard; money in `currency` (the region's). */
export function dashboardCharts(figures: Dashboard, currency: string): PageChart[] {
  const per = figures.bucket === 'hour' ? 'hour' : 'day';
  const charts = [
    seriesChart(figures, 'chart-revenue', `Revenue per ${per}`, 'revenue', currency, (p) => p.revenueCents / 100),
    seriesChart(figures, 'chart-rides', `Rides per ${per}`, 'rides', undefined, (p) => p.rides),
  ];
  if (figures.scope.kind === 'region') {
    const options: BarChartOptions = {
      id: 'chart-cities',
      title: 'Revenue per city',
      description: `Revenue of each city of ${figures.scope.region} over the period`,
      categories: figures.byCity.map((row) => cityLabel(row.city)),
      series: [{ name: 'revenue', values: figures.byCity.map((row) => row.revenueCents / 100) }],
      x: { label: 'city' },
      y: { label: 'revenue', unit: currency },
    };
    charts.push({ id: 'chart-cities', title: 'Revenue per city', svg: barChart(options), table: barChartTable(options) });
  }
  return charts;
}
