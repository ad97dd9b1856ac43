// Look-ups the pages and the API share: what a path names, or 404.
import { domainError } from '../movr/errors.ts';
import { isUuid } from '../movr/rules.ts';
import type { City, RegionMap } from '../region-map.ts';

/** The city a path or query names, or 404 city_not_found. */
export function cityOr404(regions: RegionMap, name: string): City {
  const city = regions.findCity(name);
  if (!city) throw domainError('city_not_found');
  return city;
}

/** A vehicle or ride id from a path, lower-cased, or 404 (a malformed id names nothing). */
export function idOr404(id: string, what: 'vehicle' | 'ride'): string {
  if (!isUuid(id)) throw domainError(what === 'vehicle' ? 'vehicle_not_found' : 'ride_not_found');
  return id.toLowerCase();
}
