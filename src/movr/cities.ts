// The cities MovR serves and the CockroachDB region each one's rows live in.

export const REGION_NAMES = ['us-east1', 'us-west1', 'europe-west1'] as const;
export type RegionName = (typeof REGION_NAMES)[number];

export interface City {
  readonly name: string;
  readonly region: RegionName;
  /** Centre of the city, used to place generated vehicles and location points. */
  readonly lat: number;
  readonly long: number;
}

export const CITIES: readonly City[] = Object.freeze([
  { name: 'new york', region: 'us-east1', lat: 40.7128, long: -74.006 },
  { name: 'boston', region: 'us-east1', lat: 42.3601, long: -71.0589 },
  { name: 'washington dc', region: 'us-east1', lat: 38.9072, long: -77.0369 },
  { name: 'san francisco', region: 'us-west1', lat: 37.7749, long: -122.4194 },
  { name: 'seattle', region: 'us-west1', lat: 47.6062, long: -122.3321 },
  { name: 'los angeles', region: 'us-west1', lat: 34.0522, long: -118.2437 },
  { name: 'amsterdam', region: 'europe-west1', lat: 52.3676, long: 4.9041 },
  { name: 'paris', region: 'europe-west1', lat: 48.8566, long: 2.3522 },
  { name: 'rome', region: 'europe-west1', lat: 41.9028, long: 12.4964 },
]);

const citiesByName = new Map(CITIES.map((city) => [city.name, city]));

export function findCity(name: string): City | undefined {
  return citiesByName.get(name);
}

export interface RegionWithCities {
  readonly region: RegionName;
  readonly cities: readonly City[];
}

/** The regions with their cities; the given home region (an instance's MOVR_REGION) comes first. */
export function citiesByRegion(homeRegion?: RegionName): RegionWithCities[] {
  const regions = [...REGION_NAMES].sort(
    (a, b) => Number(b === homeRegion) - Number(a === homeRegion),
  );
  return regions.map((region) => ({ region, cities: CITIES.filter((city) => city.region === region) }));
}
