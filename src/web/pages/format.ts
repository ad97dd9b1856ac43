// Presentation helpers shared by the pages.
import type { RegionName } from '../../movr/cities.ts';

const REGION_LABELS: Readonly<Record<RegionName, string>> = {
  'us-east1': 'US East',
  'us-west1': 'US West',
  'europe-west1': 'Europe West',
};

/** 'us-east1' → 'US East'. */
export function regionLabel(region: RegionName): string {
  return REGION_LABELS[region];
}

const UPPER_CASE_WORDS = new Set(['dc']);

/** A city's stored name ('washington dc') as people write it ('Washington DC'). */
export function cityLabel(name: string): string {
  return name
    .split(' ')
    .map((word) => (UPPER_CASE_WORDS.has(word) ? word.toUpperCase() : word.charAt(0).toUpperCase() + word.slice(1)))
    .join(' ');
}

/** The path of a city's vehicle list. */
export function cityVehiclesPath(city: string): string {
  return `/cities/${encodeURIComponent(city)}/vehicles`;
}

/** '1 vehicle', '2 vehicles', 'No vehicles'. */
export function vehicleCountLabel(count: number): string {
  if (count === 0) return 'No vehicles';
  return `${count.toLocaleString('en-US')} ${count === 1 ? 'vehicle' : 'vehicles'}`;
}
