// The server-drawn maps (src/web/maps/): pure functions from rows to SVG text.
import { describe, expect, it } from 'vitest';
import { cityMapSvg } from '../../../src/web/maps/city-map.ts';
import { routeMapSvg } from '../../../src/web/maps/route-map.ts';
import { lengthLabel, roundLength } from '../../../src/web/maps/svg.ts';
import { worldMapSvg } from '../../../src/web/maps/world-map.ts';
import { DEFAULT_REGION_MAP, cityCentre } from '../../../src/region-map.ts';

const PARIS = { lat: 48.8566, long: 2.3522 };

function vehicles(count: number) {
  return Array.from({ length: count }, (_, i) => ({
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    lat: PARIS.lat + (i - count / 2) * 0.002,
    long: PARIS.long + ((i * 7) % 11 - 5) * 0.003,
    type: ['bike', 'scooter', 'skateboard'][i % 3] as string,
    status: ['available', 'in_use', 'lost'][i % 3] as string,
    href: `#vehicle-${i}`,
    label: `vehicle <${i}> & co`,
  }));
}

describe('cityMapSvg', () => {
  it('draws one mark per vehicle, shaped by type and coloured by status, each linking to its row', () => {
    const svg = cityMapSvg({ cityLabel: 'Paris', centre: PARIS, vehicles: vehicles(7) });
    expect(svg.match(/<a /g)).toHaveLength(7);
    expect(svg.match(/class="map__vehicle map__vehicle--available"/g)).toHaveLength(3);
    expect(svg.match(/class="map__vehicle map__vehicle--in_use"/g)).toHaveLength(2);
    expect(svg.match(/<circle cx/g)).toHaveLength(3); // bikes
    expect(svg.match(/<rect x/g)).toHaveLength(2); // scooters
    for (let i = 0; i < 7; i++) expect(svg).toContain(`href="#vehicle-${i}"`);
    expect(svg).toContain('vehicle &lt;3&gt; &amp; co');
  });

  it('is an accessible image with a title, a description and a scale bar of a round length', () => {
    const svg = cityMapSvg({ cityLabel: 'Paris', centre: PARIS, vehicles: vehicles(2) });
    expect(svg).toMatch(/^<svg [^>]*role="img" aria-labelledby="city-map-title city-map-desc"/);
    expect(svg).toContain('<title id="city-map-title">Map of 2 vehicles in Paris</title>');
    expect(svg).toMatch(/<desc id="city-map-desc">[^<]+<\/desc>/);
    const metres = Number(/data-metres="(\d+)"/.exec(svg)?.[1]);
    expect([100, 200, 500, 1000, 2000, 5000]).toContain(metres);
    expect(svg).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/); // nothing from the network
  });

  it('draws an empty city, and marks the point searched from', () => {
    expect(cityMapSvg({ cityLabel: 'Rome', centre: PARIS, vehicles: [] })).not.toContain('<a ');
    expect(cityMapSvg({ cityLabel: 'Rome', centre: PARIS, vehicles: [], you: PARIS })).toContain('class="map__you"');
  });
});

describe('routeMapSvg', () => {
  it('joins the points in order, one vertex per point, with the start and the end marked', () => {
    const points = Array.from({ length: 9 }, (_, i) => ({ lat: PARIS.lat + i * 0.001, long: PARIS.long + Math.sin(i) * 0.001 }));
    const svg = routeMapSvg({ points, title: 'Route of the ride in Paris' });
    const vertices = /<polyline class="map__route" points="([^"]+)"/.exec(svg)?.[1]?.split(' ') ?? [];
    expect(vertices).toHaveLength(9);
    // North is up: later points (further north) are higher on the map.
    const ys = vertices.map((v) => Number(v.split(',')[1]));
    expect([...ys].sort((a, b) => b - a)).toEqual(ys);
    expect(svg).toContain('class="map__start"');
    expect(svg).toContain('class="map__end"');
    expect(svg).toContain('role="img"');
    expect(svg).toContain('<title id="route-map-title">Route of the ride in Paris</title>');
  });

  it('draws a single point, and no line without points', () => {
    expect(/points="([^"]+)"/.exec(routeMapSvg({ points: [PARIS], title: 'x' }))?.[1]?.split(' ')).toHaveLength(1);
    expect(routeMapSvg({ points: [], title: 'x' })).not.toContain('polyline');
  });
});

describe('worldMapSvg', () => {
  it('shows the three regions and nine cities on Natural Earth land, each city a link', () => {
    const regions = DEFAULT_REGION_MAP.regions.map(({ region, cities }) => ({
      region,
      label: region,
      cities: cities.map((city) => ({ label: city.name, ...cityCentre(city), href: `/cities/${city.name}`, note: '5 vehicles' })),
    }));
    const svg = worldMapSvg(regions);
    expect(svg.match(/<a /g)).toHaveLength(9);
    expect(svg.match(/class="map__legend-item/g)).toHaveLength(3);
    expect(svg).toContain('Map of the 3 regions and 9 cities MovR serves');
    const land = /<path class="map__land" d="([^"]+)"/.exec(svg)?.[1] ?? '';
    expect(land.length).toBeGreaterThan(1000);
    // Every city is inside the picture.
    for (const match of svg.matchAll(/<circle cx="([\d.-]+)" cy="([\d.-]+)" r="6"/g)) {
      expect(Number(match[1])).toBeGreaterThan(0);
      expect(Number(match[1])).toBeLessThan(960);
      expect(Number(match[2])).toBeGreaterThan(0);
      expect(Number(match[2])).toBeLessThan(420);
    }
    expect(worldMapSvg(regions)).toBe(svg);
  });
});

describe('scale lengths', () => {
  it('rounds down to 1, 2 or 5 times a power of ten', () => {
    expect([roundLength(140), roundLength(260), roundLength(999), roundLength(1000), roundLength(4999)]).toEqual([100, 200, 500, 1000, 2000]);
    expect([lengthLabel(500), lengthLabel(2000)]).toEqual(['500 m', '2 km']);
  });
});
