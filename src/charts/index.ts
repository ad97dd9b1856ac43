// Charts drawn on the server: pure functions from data to an SVG string (no DOM, no script, no
// web font), each with role="img", a <title>, a <desc> that states the figures, and a table of
// the same figures for a text alternative. See docs/decisions/0017-server-side-svg-charts.md.
export { type BarChartOptions, type BarSeries, barChart, describeBarChart } from './bar-chart.ts';
export { type LineChartOptions, type LinePoint, type LineSeries, describeLineChart, lineChart } from './line-chart.ts';
export { formatTimestamp, formatValue } from './format.ts';
export { PALETTE, seriesColour, seriesDash } from './palette.ts';
export { escapeXml } from './svg.ts';
export { barChartTable, lineChartTable } from './table.ts';
