// The small pieces every chart shares: escaping, numbers in attributes, ids, the frame.

/** Characters XML 1.0 does not allow at all (C0 controls other than tab, newline, return; lone surrogates; U+FFFE/FFFF). */
// eslint-disable-next-line no-control-regex
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Text made safe for SVG (and HTML) text content and quoted attribute values alike: markup
 * characters as entities, characters XML cannot carry dropped.
 */
export function escapeXml(text: unknown): string {
  return String(text)
    .replace(NOT_XML, '')
    .replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** A coordinate for an attribute: at most one decimal, no "-0". */
export function num(value: number): string {
  const rounded = Math.round(value * 10) / 10;
  return Object.is(rounded, -0) ? '0' : String(rounded);
}

/** Attributes from an object; undefined values are left out, every value escaped. */
export function attrs(values: Record<string, string | number | undefined>): string {
  let out = '';
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) continue;
    out += ` ${name}="${typeof value === 'number' ? num(value) : escapeXml(value)}"`;
  }
  return out;
}

/** An id fragment from any text: lower-case letters, digits and dashes, never empty. */
export function slug(text: string): string {
  const s = text
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48);
  return s === '' ? 'chart' : s;
}

/** The system's own sans-serif: no web font is ever fetched. */
export const FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";

/** Approximate width of a label in pixels (no font metrics on the server): for layout only. */
export function textWidth(text: string, fontSize: number): number {
  return [...text].length * fontSize * 0.58;
}

export interface Frame {
  /** Unique within the page that shows the chart: the ids of <title> and <desc> derive from it. */
  id: string;
  width: number;
  height: number;
  title: string;
  description: string;
  /** The chart kind for class names, e.g. "line". */
  kind: string;
}

/**
 * The outer <svg>: role="img", labelled by its <title> and described by its <desc>, text in
 * currentColor so that it follows the page's colour (and a dark theme).
 */
export function svgDocument(frame: Frame, body: string): string {
  const titleId = `${frame.id}-title`;
  const descId = `${frame.id}-desc`;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg"${attrs({
      id: frame.id,
      class: `movr-chart movr-chart-${frame.kind}`,
      role: 'img',
      'aria-labelledby': titleId,
      'aria-describedby': descId,
      width: frame.width,
      height: frame.height,
      viewBox: `0 0 ${num(frame.width)} ${num(frame.height)}`,
      'font-family': FONT_FAMILY,
      'font-size': 12,
      fill: 'currentColor',
    })}>` +
    `<title id="${escapeXml(titleId)}">${escapeXml(frame.title)}</title>` +
    `<desc id="${escapeXml(descId)}">${escapeXml(frame.description)}</desc>` +
    body +
    '</svg>'
  );
}

/** A text element; `content` is escaped here. */
export function text(content: string, at: Record<string, string | number | undefined>): string {
  return `<text${attrs(at)}>${escapeXml(content)}</text>`;
}

/** Chart title drawn in the picture (it is also the <title>). */
export function heading(title: string, x: number): string {
  return text(title, { x, y: 18, 'font-size': 14, 'font-weight': 600 });
}

/** "No data" in the middle of an empty plot. */
export function noData(x: number, y: number, message = 'No data'): string {
  return text(message, { x, y, 'text-anchor': 'middle', 'fill-opacity': 0.6 });
}

/** The chart's id: the one given, or one from the title, made safe for an id attribute and url(#…). */
export function chartId(given: string | undefined, title: string): string {
  return given === undefined ? `chart-${slug(title)}` : slug(given);
}
