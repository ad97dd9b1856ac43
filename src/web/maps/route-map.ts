// A ride's route as an SVG: the recorded points in time order as one line (one vertex per
// point), the start and the end marked, a scale bar. Server-drawn, offline, no script.
import { type LatLong, escapeXml, metresFrom, n, scaleBar } from './svg.ts';

export interface RouteMapInput {
  /** The ride's points, oldest first. */
  readonly points: readonly LatLong[];
  /** Says what the route is, e.g. 'Route of your ride in Paris'. */
  readonly title: string;
  readonly width?: number;
  readonly height?: number;
}

export function routeMapSvg(input: RouteMapInput): string {
  const width = input.width ?? 480;
  const height = input.height ?? 300;
  const first = input.points[0];
  const last = input.points.at(-1);
  const count = input.points.length;
  const description =
    count === 0
      ? 'No points were recorded.'
      : `${count} recorded ${count === 1 ? 'point' : 'points'} joined in time order; the green dot is the start, the square the end.`;
  const head =
    `<svg class="map map--route" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="route-map-title route-map-desc" xmlns="http://www.w3.org/2000/svg">` +
    `<title id="route-map-title">${escapeXml(input.title)}</title><desc id="route-map-desc">${escapeXml(description)}</desc>` +
    `<rect class="map__ground" width="${width}" height="${height}"/>`;
  if (!first || !last) return `${head}</svg>`;
  const centre = {
    lat: (Math.min(...input.points.map((p) => p.lat)) + Math.max(...input.points.map((p) => p.lat))) / 2,
    long: (Math.min(...input.points.map((p) => p.long)) + Math.max(...input.points.map((p) => p.long))) / 2,
  };
  const metres = input.points.map((p) => metresFrom(centre, p));
  const margin = 24;
  const spanX = Math.max(...metres.map((p) => Math.abs(p.x))) / (width / 2 - margin);
  const spanY = Math.max(...metres.map((p) => Math.abs(p.y))) / (height / 2 - margin);
  // At least 100 m either side, so a ride that barely moved is not blown up to fill the map.
  const metresPerUnit = Math.max(spanX, spanY, 100 / (height / 2 - margin));
  const svg = metres.map((p) => ({ x: width / 2 + p.x / metresPerUnit, y: height / 2 - p.y / metresPerUnit }));
  const start = svg[0] as { x: number; y: number };
  const end = svg.at(-1) as { x: number; y: number };
  return (
    head +
    `<polyline class="map__route" points="${svg.map((p) => `${n(p.x)},${n(p.y)}`).join(' ')}"/>` +
    `<circle class="map__start" cx="${n(start.x)}" cy="${n(start.y)}" r="6"><title>Start</title></circle>` +
    `<rect class="map__end" x="${n(end.x - 5)}" y="${n(end.y - 5)}" width="10" height="10"><title>End</title></rect>` +
    scaleBar(metresPerUnit, width, height) +
    `</svg>`
  );
}
