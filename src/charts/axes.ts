// Axes drawn as plain SVG: a horizontal grid line per y tick, tick labels, axis titles.
import { attrs, num, text } from './svg.ts';

export interface Plot {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface Tick {
  /** Position along the axis in pixels (absolute). */
  at: number;
  label: string;
}

/** y ticks at the left with grid lines across the plot, and the axis title turned upright. */
export function yAxis(plot: Plot, ticks: readonly Tick[], title: string | undefined): string {
  const parts = ticks.map(
    (tick) =>
      `<line${attrs({ x1: plot.left, x2: plot.left + plot.width, y1: tick.at, y2: tick.at, stroke: 'currentColor', 'stroke-opacity': 0.15 })}/>` +
      text(tick.label, { x: plot.left - 6, y: tick.at + 4, 'text-anchor': 'end' }),
  );
  if (title) {
    const cx = 14;
    const cy = plot.top + plot.height / 2;
    parts.push(text(title, { x: cx, y: cy, 'text-anchor': 'middle', transform: `rotate(-90 ${num(cx)} ${num(cy)})` }));
  }
  return `<g class="movr-chart-axis movr-chart-y">${parts.join('')}</g>`;
}

/** x ticks under the plot, a base line, and the axis title centred below. */
export function xAxis(plot: Plot, ticks: readonly Tick[], title: string | undefined, rotate = false): string {
  const base = plot.top + plot.height;
  const parts = [`<line${attrs({ x1: plot.left, x2: plot.left + plot.width, y1: base, y2: base, stroke: 'currentColor', 'stroke-opacity': 0.5 })}/>`];
  for (const tick of ticks) {
    parts.push(`<line${attrs({ x1: tick.at, x2: tick.at, y1: base, y2: base + 4, stroke: 'currentColor', 'stroke-opacity': 0.5 })}/>`);
    parts.push(
      rotate
        ? text(tick.label, { x: tick.at, y: base + 14, 'text-anchor': 'end', transform: `rotate(-40 ${num(tick.at)} ${num(base + 14)})` })
        : text(tick.label, { x: tick.at, y: base + 16, 'text-anchor': 'middle' }),
    );
  }
  if (title) parts.push(text(title, { x: plot.left + plot.width / 2, y: base + (rotate ? 58 : 32), 'text-anchor': 'middle' }));
  return `<g class="movr-chart-axis movr-chart-x">${parts.join('')}</g>`;
}
