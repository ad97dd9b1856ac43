// A legend laid out in rows across the chart's width.
import { attrs, escapeXml, textWidth } from './svg.ts';

export interface LegendItem {
  name: string;
  colour: string;
  dash?: string | undefined;
  /** A filled square (bars) instead of a line swatch. */
  swatch?: 'line' | 'square';
}

const ROW_HEIGHT = 18;
const SWATCH = 18;
const GAP = 16;
const FONT_SIZE = 12;

export interface Legend {
  /** The legend's height in pixels, 0 for no items. */
  height: number;
  svg: string;
}

/** The legend's items placed left to right from `x`, wrapping at `width`, its first row's top at `y`. */
export function legend(items: readonly LegendItem[], x: number, y: number, width: number): Legend {
  if (items.length === 0) return { height: 0, svg: '' };
  let cx = x;
  let row = 0;
  const parts: string[] = [];
  for (const item of items) {
    const w = SWATCH + 4 + textWidth(item.name, FONT_SIZE);
    if (cx > x && cx + w > x + width) {
      row++;
      cx = x;
    }
    const cy = y + row * ROW_HEIGHT + ROW_HEIGHT / 2;
    const swatch =
      item.swatch === 'square'
        ? `<rect${attrs({ x: cx + 4, y: cy - 5, width: 10, height: 10, fill: item.colour })}/>`
        : `<line${attrs({ x1: cx, y1: cy, x2: cx + SWATCH, y2: cy, stroke: item.colour, 'stroke-width': 2.5, 'stroke-dasharray': item.dash })}/>`;
    parts.push(
      `<g class="movr-chart-legend-item">${swatch}<text${attrs({ x: cx + SWATCH + 4, y: cy + 4 })}>${escapeXml(item.name)}</text></g>`,
    );
    cx += w + GAP;
  }
  return { height: (row + 1) * ROW_HEIGHT, svg: `<g class="movr-chart-legend">${parts.join('')}</g>` };
}
