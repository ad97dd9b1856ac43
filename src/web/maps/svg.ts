// What the maps share: escaping text for SVG, rounding coordinates, the local projection of a
// city (metres east and north of a centre) and a scale bar of a round length.

/** Text or an attribute value, escaped for SVG (the same rules as HTML). */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** A coordinate in the SVG's user units, to a tenth. */
export function n(value: number): string {
  return String(Math.round(value * 10) / 10);
}

/** Metres per degree of latitude (and of longitude at the equator). */
const METRES_PER_DEGREE = 111_320;

export interface LatLong {
  readonly lat: number;
  readonly long: number;
}

/** Metres east (x) and north (y) of the centre: an equirectangular projection, true at city scale. */
export function metresFrom(centre: LatLong, point: LatLong): { x: number; y: number } {
  return {
    x: (point.long - centre.long) * METRES_PER_DEGREE * Math.cos((centre.lat * Math.PI) / 180),
    y: (point.lat - centre.lat) * METRES_PER_DEGREE,
  };
}

/** The largest 1, 2 or 5 × 10^k metres not longer than `metres`. */
export function roundLength(metres: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(1, metres)));
  const steps = [5, 2, 1].map((step) => step * power);
  return steps.find((step) => step <= metres) ?? power;
}

/** '500 m', '2 km'. */
export function lengthLabel(metres: number): string {
  return metres >= 1000 ? `${metres / 1000} km` : `${metres} m`;
}

/** A scale bar of a round length at most a quarter of the map's width, at its bottom left. */
export function scaleBar(metresPerUnit: number, width: number, height: number): string {
  const metres = roundLength((width / 4) * metresPerUnit);
  const length = metres / metresPerUnit;
  const x = 12;
  const y = height - 14;
  return (
    `<g class="map__scale" data-metres="${metres}">` +
    `<path d="M${n(x)} ${n(y - 5)}V${n(y)}H${n(x + length)}V${n(y - 5)}"/>` +
    `<text x="${n(x + length + 6)}" y="${n(y)}">${lengthLabel(metres)}</text></g>`
  );
}
