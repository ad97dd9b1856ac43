// The regions and cities MovR serves on a world map, as an SVG: Natural Earth land outlines
// (world-atlas, 1:110m) projected with d3-geo's Equal Earth projection, cropped to the cities
// with a margin, and each city a dot coloured by its region that links to its vehicles.
import { createRequire } from 'node:module';
import { geoEqualEarth, geoPath } from 'd3-geo';
import type { Feature, FeatureCollection, MultiPoint } from 'geojson';
import type { GeoProjection } from 'd3-geo';
import { feature } from 'topojson-client';
import type { Topology } from 'topojson-specification';
import { escapeXml, n } from './svg.ts';

export interface WorldMapCity {
  readonly label: string;
  readonly lat: number;
  readonly long: number;
  readonly href: string;
  /** e.g. '12 vehicles'. */
  readonly note: string;
}

export interface WorldMapRegion {
  readonly region: string;
  readonly label: string;
  readonly cities: readonly WorldMapCity[];
}

let land: FeatureCollection | Feature | undefined;

/** The land outlines, read once from the world-atlas package. */
function landOutlines(): FeatureCollection | Feature {
  if (!land) {
    const require = createRequire(import.meta.url);
    const topology = require('world-atlas/land-110m.json') as Topology;
    const object = topology.objects.land;
    if (!object) throw new Error('world-atlas/land-110m.json has no land object');
    land = feature(topology, object) as FeatureCollection | Feature;
  }
  return land;
}

interface Backdrop {
  readonly projection: GeoProjection;
  /** The land outlines as an SVG path, cropped to the picture. */
  readonly land: string;
}

const backdrops = new Map<string, Backdrop>();

/**
 * The projection fitted to the cities' extent (widened so the coasts around them show) and the
 * land drawn with it: the expensive part, computed once per set of city positions and size.
 */
function backdrop(points: readonly { lat: number; long: number }[], width: number, height: number): Backdrop {
  const key = JSON.stringify([points.map((p) => [p.lat, p.long]), width, height]);
  let found = backdrops.get(key);
  if (!found) {
    const lats = points.map((c) => c.lat);
    const longs = points.map((c) => c.long);
    const extent: MultiPoint = {
      type: 'MultiPoint',
      coordinates:
        points.length === 0
          ? [[-180, -60], [180, 75]]
          : [
              [Math.max(-180, Math.min(...longs) - 12), Math.max(-80, Math.min(...lats) - 12)],
              [Math.min(180, Math.max(...longs) + 12), Math.min(85, Math.max(...lats) + 10)],
            ],
    };
    const projection = geoEqualEarth().fitExtent([[MARGIN, MARGIN], [width - MARGIN, height - MARGIN]], extent);
    projection.clipExtent([[0, 0], [width, height]]);
    found = { projection, land: geoPath(projection).digits(1)(landOutlines()) ?? '' };
    if (backdrops.size > 10) backdrops.clear();
    backdrops.set(key, found);
  }
  return found;
}

const MARGIN = 16;
export const WORLD_MAP_WIDTH = 960;
export const WORLD_MAP_HEIGHT = 420;

/** The map for these regions: the land once per set of cities, the marks on every call (cheap). */
export function worldMapSvg(regions: readonly WorldMapRegion[], options: { width?: number; height?: number } = {}): string {
  const width = options.width ?? WORLD_MAP_WIDTH;
  const height = options.height ?? WORLD_MAP_HEIGHT;
  const cities = regions.flatMap((region, index) => region.cities.map((city) => ({ ...city, regionIndex: index })));
  const { projection, land: landPath } = backdrop(cities, width, height);
  const margin = MARGIN;
  const title = `Map of the ${regions.length} regions and ${cities.length} cities MovR serves`;
  const description = regions.map((region) => `${region.label}: ${region.cities.map((c) => c.label).join(', ')}`).join('. ');
  const marks = cities
    .map((city) => {
      const [x, y] = projection([city.long, city.lat]) ?? [0, 0];
      return (
        `<a href="${escapeXml(city.href)}" class="map__city map__city--region${city.regionIndex % 6}" tabindex="-1">` +
        `<title>${escapeXml(`${city.label}: ${city.note}`)}</title>` +
        `<circle cx="${n(x)}" cy="${n(y)}" r="6"/>` +
        `<text x="${n(x + 9)}" y="${n(y + 4)}">${escapeXml(city.label)}</text></a>`
      );
    })
    .join('');
  const legend = regions
    .map(
      (region, index) =>
        `<g class="map__legend-item map__city--region${index % 6}" transform="translate(${margin + 8},${n(margin + 14 + index * 20)})">` +
        `<circle r="6"/><text x="12" y="4">${escapeXml(region.label)}</text></g>`,
    )
    .join('');
  return (
    `<svg class="map map--world" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="world-map-title world-map-desc" xmlns="http://www.w3.org/2000/svg">` +
    `<title id="world-map-title">${escapeXml(title)}</title><desc id="world-map-desc">${escapeXml(description)}</desc>` +
    `<rect class="map__sea" width="${width}" height="${height}"/>` +
    `<path class="map__land" d="${landPath}"/>` +
    `<g class="map__cities">${marks}</g><g class="map__legend">${legend}</g></svg>`
  );
}
