// What the maps share: the local projection of a city (metres east and north of a centre) and a scale bar of a round length.

// Escaping and attribute numbers are the charts' (src/charts/svg.ts): one rule for every SVG MovR draws.
export { escapeXml, num as n } from '../../charts/svg.ts';
import { num as n } from '../../charts/svg.ts';

import { METRES_PER_DEGREE, metresPerDegreeLong } from '../../region-map.ts';

export interface LatLong {
  readonly lat: number;
  readonly long: number;
}

/** Metres east (x) and north (y) of the centre: an equirectangular projection, true at city scale. */
export function metresFrom(centre: LatLong, point: LatLong): { x: number; y: number } {
  return {
    x: (point.long - centre.long) * metresPerDegreeLong(centre.lat),
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
