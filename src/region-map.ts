// The cities MovR serves and the CockroachDB region each one's rows live in: a value, built
// once from configuration (MOVR_REGIONS or MOVR_REGIONS_FILE, else the default nine cities in
// three regions) and handed to whatever needs it: the app as a decorator, the domain, the
// workload and the DDL generator as an argument. Nothing here imports the rest of MovR.
// See docs/decisions/0003-region-map.md.

/** A CockroachDB region name, e.g. 'us-east1'. */
export type RegionName = string;

export interface City {
  readonly name: string;
  readonly region: RegionName;
  /**
   * Centre of the city, used to place generated vehicles and location points. Known for the
   * nine default cities (and for cities given coordinates in MOVR_REGIONS_FILE); cities added
   * by configuration without them have none: use cityCentre() for a stand-in.
   */
  readonly lat?: number;
  readonly long?: number;
  /**
   * The city's IANA time zone ('America/New_York'): pages show its times in it. Known for the
   * nine default cities, given by MOVR_REGIONS_FILE for others; without one, UTC.
   */
  readonly timeZone?: string;
}

/** ISO 4217 currencies MovR charges in; each region charges in one (see currencyOfRegion). */
export const CURRENCIES = ['USD', 'EUR'] as const;
export type Currency = (typeof CURRENCIES)[number];

export interface RegionWithCities {
  readonly region: RegionName;
  /** What rides in the region's cities are charged in. */
  readonly currency: Currency;
  readonly cities: readonly City[];
}

/** The currency of a region without one configured: EUR for europe-… regions, else USD. */
export function currencyOfRegion(region: RegionName): Currency {
  return region.startsWith('europe-') || region.startsWith('eu-') ? 'EUR' : 'USD';
}

export function isCurrency(value: unknown): value is Currency {
  return (CURRENCIES as readonly unknown[]).includes(value);
}

/** Whether the runtime knows the IANA time zone. */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** Regions in order (the first is the primary region), each with its cities in order. */
export class RegionMap {
  readonly regions: readonly RegionWithCities[];
  /** Every city, region by region. */
  readonly cities: readonly City[];
  /** The regions, primary region first. */
  readonly regionNames: readonly RegionName[];
  readonly #byName: ReadonlyMap<string, City>;
  readonly #currencyOf: ReadonlyMap<string, Currency>;

  constructor(regions: readonly (Omit<RegionWithCities, 'currency'> & { currency?: Currency })[]) {
    this.regions = Object.freeze(
      regions.map(({ region, currency, cities }) =>
        Object.freeze({ region, currency: currency ?? currencyOfRegion(region), cities: Object.freeze([...cities]) }),
      ),
    );
    this.cities = Object.freeze(this.regions.flatMap((region) => region.cities));
    this.regionNames = Object.freeze(this.regions.map((region) => region.region));
    this.#byName = new Map(this.cities.map((city) => [city.name, city]));
    this.#currencyOf = new Map(this.regions.flatMap(({ currency, cities }) => cities.map((city) => [city.name, currency] as const)));
    Object.freeze(this);
  }

  findCity(name: string): City | undefined {
    return this.#byName.get(name);
  }

  /** What rides in the city are charged in: its region's currency (USD for a city the map does not know). */
  currencyOf(cityName: string): Currency {
    return this.#currencyOf.get(cityName) ?? 'USD';
  }

  /** The city's time zone ('UTC' for a city the map does not know). */
  timeZoneOf(cityName: string): string {
    return this.#byName.get(cityName)?.timeZone ?? 'UTC';
  }

  /** The regions with their cities; the given home region (an instance's MOVR_REGION) comes first. */
  citiesByRegion(homeRegion?: RegionName): RegionWithCities[] {
    const regions = [...this.regions].sort((a, b) => Number(b.region === homeRegion) - Number(a.region === homeRegion));
    return regions.map(({ region, currency, cities }) => ({ region, currency, cities }));
  }
}

const UPPER_CASE_WORDS = new Set(['dc']);

/** A city's stored name ('washington dc') as people write it ('Washington DC'). */
export function cityLabel(name: string): string {
  return name
    .split(' ')
    .map((word) => (UPPER_CASE_WORDS.has(word) ? word.toUpperCase() : word.charAt(0).toUpperCase() + word.slice(1)))
    .join(' ');
}

/** Metres per degree of latitude (and of longitude at the equator), on the WGS 84 mean radius. */
export const METRES_PER_DEGREE = 111_320;

/** Metres per degree of longitude at a latitude (never quite 0, so that dividing by it is safe). */
export function metresPerDegreeLong(lat: number): number {
  return METRES_PER_DEGREE * Math.max(0.01, Math.cos((lat * Math.PI) / 180));
}

/** Centres of the cities MovR knows by name, whichever region a map puts them in. */
const KNOWN_CENTRES: ReadonlyMap<string, { lat: number; long: number }> = new Map([
  ['new york', { lat: 40.7128, long: -74.006 }],
  ['boston', { lat: 42.3601, long: -71.0589 }],
  ['washington dc', { lat: 38.9072, long: -77.0369 }],
  ['san francisco', { lat: 37.7749, long: -122.4194 }],
  ['seattle', { lat: 47.6062, long: -122.3321 }],
  ['los angeles', { lat: 34.0522, long: -118.2437 }],
  ['amsterdam', { lat: 52.3676, long: 4.9041 }],
  ['paris', { lat: 48.8566, long: 2.3522 }],
  ['rome', { lat: 41.9028, long: 12.4964 }],
]);

/** Time zones of the cities MovR knows by name. */
const KNOWN_TIME_ZONES: ReadonlyMap<string, string> = new Map([
  ['new york', 'America/New_York'],
  ['boston', 'America/New_York'],
  ['washington dc', 'America/New_York'],
  ['san francisco', 'America/Los_Angeles'],
  ['seattle', 'America/Los_Angeles'],
  ['los angeles', 'America/Los_Angeles'],
  ['amsterdam', 'Europe/Amsterdam'],
  ['paris', 'Europe/Paris'],
  ['rome', 'Europe/Rome'],
]);

function makeCity(name: string, region: RegionName, centre?: { lat: number; long: number }, timeZone?: string): City {
  const known = centre ?? KNOWN_CENTRES.get(name);
  const zone = timeZone ?? KNOWN_TIME_ZONES.get(name);
  return Object.freeze({
    name,
    region,
    ...(known ? { lat: known.lat, long: known.long } : {}),
    ...(zone === undefined ? {} : { timeZone: zone }),
  });
}

/** The nine cities and three regions of `cockroach workload init movr`. */
export const DEFAULT_REGION_MAP: RegionMap = new RegionMap(
  (
    [
      ['us-east1', ['new york', 'boston', 'washington dc']],
      ['us-west1', ['san francisco', 'seattle', 'los angeles']],
      ['europe-west1', ['amsterdam', 'paris', 'rome']],
    ] as const
  ).map(([region, names]) => ({ region, cities: names.map((name) => makeCity(name, region)) })),
);

/**
 * The city's centre, or for a city without known coordinates a stand-in derived from its name
 * alone (the same on every run and machine), so that generated points still cluster per city.
 */
export function cityCentre(city: City): { lat: number; long: number } {
  if (city.lat !== undefined && city.long !== undefined) return { lat: city.lat, long: city.long };
  const hash = fnv1a(city.name);
  // Latitudes -50..60 and longitudes -180..180, on a 0.0001° grid.
  return {
    lat: Math.round(((hash % 1_100_000) / 10_000 - 50) * 10_000) / 10_000,
    long: Math.round((((Math.floor(hash / 1_100_000) * 7919) % 3_600_000) / 10_000 - 180) * 10_000) / 10_000,
  };
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

// ---- building a map from configuration ------------------------------------------------------

/** A city as configuration gives it: a name, optionally with its centre. */
export type CityInput = string | { readonly name: string; readonly lat?: number; readonly long?: number; readonly timeZone?: string };

export interface RegionMapResult {
  /** The map, when there were no problems. */
  readonly map?: RegionMap;
  /** What is wrong, one sentence each, without the setting's name. */
  readonly problems: string[];
  /** Every region name that was given, valid or not (to check MOVR_REGION against). */
  readonly regionNames: string[];
}

/** Lowercase letters, digits and dashes, starting with a letter and not ending with a dash. */
export const REGION_NAME_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/**
 * Validates regions and their cities and builds a map. Problems: a blank or invalid region
 * name, a region listed twice, a region without cities, a blank city name, a city listed twice
 * in a region or in two regions, bad coordinates.
 */
export function buildRegionMap(
  entries: readonly (readonly [string, readonly CityInput[]])[],
  currencies: Readonly<Record<string, unknown>> = {},
): RegionMapResult {
  const problems: string[] = [];
  const regionNames: string[] = [];
  const seenRegions = new Set<string>();
  const regionOfCity = new Map<string, string>();
  const built: (Omit<RegionWithCities, 'currency'> & { currency?: Currency })[] = [];
  for (const [region, currency] of Object.entries(currencies)) {
    if (!entries.some(([name]) => name.trim() === region)) problems.push(`a currency is given for ${region}, which is not a region of the map`);
    if (!isCurrency(currency)) problems.push(`the currency of ${region} must be one of ${CURRENCIES.join(', ')}`);
  }
  if (entries.length === 0) problems.push('no regions are given');
  for (const [rawRegion, inputs] of entries) {
    const region = rawRegion.trim();
    if (region === '') {
      problems.push(`a region name is blank (its cities: ${describeCities(inputs)})`);
    } else {
      regionNames.push(region);
      if (!REGION_NAME_PATTERN.test(region)) {
        problems.push(
          `"${region}" is not a valid region name: use lowercase letters, digits and dashes, starting with a letter (e.g. us-central1)`,
        );
      }
      if (seenRegions.has(region)) problems.push(`region ${region} is listed twice`);
      seenRegions.add(region);
    }
    const label = region === '' ? 'the region with a blank name' : `region ${region}`;
    if (inputs.length === 0) problems.push(`${label} has no cities`);
    const cities: City[] = [];
    for (const input of inputs) {
      const name = (typeof input === 'string' ? input : input.name).trim();
      if (name === '') {
        problems.push(`a city name in ${label} is blank`);
        continue;
      }
      const other = regionOfCity.get(name);
      if (other !== undefined) {
        problems.push(
          other === region ? `"${name}" is listed twice in ${label}` : `"${name}" is in two regions: ${other} and ${region}`,
        );
        continue;
      }
      regionOfCity.set(name, region);
      let centre: { lat: number; long: number } | undefined;
      if (typeof input !== 'string' && (input.lat !== undefined || input.long !== undefined)) {
        const { lat, long } = input;
        if (typeof lat !== 'number' || !Number.isFinite(lat) || lat < -90 || lat > 90 ||
          typeof long !== 'number' || !Number.isFinite(long) || long < -180 || long > 180) {
          problems.push(`"${name}" needs both lat (-90..90) and long (-180..180), or neither`);
        } else {
          centre = { lat, long };
        }
      }
      let timeZone: string | undefined;
      if (typeof input !== 'string' && input.timeZone !== undefined) {
        if (typeof input.timeZone === 'string' && isTimeZone(input.timeZone)) timeZone = input.timeZone;
        else problems.push(`"${name}" has an unknown time zone ${JSON.stringify(input.timeZone)}: use an IANA name such as Europe/Paris`);
      }
      cities.push(makeCity(name, region, centre, timeZone));
    }
    const currency = currencies[region];
    built.push(isCurrency(currency) ? { region, currency, cities } : { region, cities });
  }
  return problems.length > 0 ? { problems, regionNames } : { map: new RegionMap(built), problems, regionNames };
}

function describeCities(inputs: readonly CityInput[]): string {
  const names = inputs.map((input) => (typeof input === 'string' ? input : input.name).trim()).filter(Boolean);
  return names.length > 0 ? names.join(', ') : 'none';
}

/**
 * The compact form of MOVR_REGIONS: `region=city,city;region=city,...`, e.g.
 * `us-east1=new york,boston,washington dc;us-central1=chicago,detroit,minneapolis`.
 * Spaces around names are ignored; a trailing `;` is allowed.
 */
export function parseRegionMap(text: string): RegionMapResult {
  const entries: [string, string[]][] = [];
  const problems: string[] = [];
  const parts = text.split(';');
  if (parts.length > 1 && parts.at(-1)?.trim() === '') parts.pop();
  for (const part of parts) {
    const equals = part.indexOf('=');
    if (equals < 0) {
      problems.push(`"${part.trim()}" has no "=": write region=city,city;region=city,...`);
      continue;
    }
    const cities = part.slice(equals + 1);
    entries.push([part.slice(0, equals), cities.trim() === '' ? [] : cities.split(',')]);
  }
  const result = buildRegionMap(entries);
  return problems.length > 0
    ? { problems: [...problems, ...result.problems], regionNames: result.regionNames }
    : result;
}

/**
 * The JSON form (MOVR_REGIONS_FILE): `{"regions": {"us-east1": ["new york", ...], ...}}`; a
 * city may also be `{"name": "chicago", "lat": 41.8781, "long": -87.6298, "timeZone": "America/Chicago"}`,
 * and `"currencies": {"us-central1": "USD"}` sets a region's currency (default: see currencyOfRegion).
 */
export function regionMapFromJson(value: unknown): RegionMapResult {
  const shape = 'must be an object like {"regions": {"us-east1": ["new york", "boston"], ...}}';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problems: [shape], regionNames: [] };
  const regions = (value as { regions?: unknown }).regions;
  if (typeof regions !== 'object' || regions === null || Array.isArray(regions)) {
    return { problems: [shape], regionNames: [] };
  }
  const problems: string[] = [];
  const entries: [string, CityInput[]][] = [];
  for (const [region, cities] of Object.entries(regions)) {
    if (!Array.isArray(cities)) {
      problems.push(`the cities of region ${region} must be a list`);
      continue;
    }
    const inputs: CityInput[] = [];
    for (const city of cities as unknown[]) {
      if (typeof city === 'string') {
        inputs.push(city);
      } else if (typeof city === 'object' && city !== null && typeof (city as { name?: unknown }).name === 'string') {
        const { name, lat, long, timeZone } = city as { name: string; lat?: unknown; long?: unknown; timeZone?: unknown };
        inputs.push({
          name,
          ...(timeZone === undefined ? {} : { timeZone: timeZone as string }),
          ...(lat === undefined ? {} : { lat: typeof lat === 'number' ? lat : Number.NaN }),
          ...(long === undefined ? {} : { long: typeof long === 'number' ? long : Number.NaN }),
        });
      } else {
        problems.push(`a city of region ${region} is neither a name nor {"name": ..., "lat": ..., "long": ...}`);
      }
    }
    entries.push([region, inputs]);
  }
  const currencies = (value as { currencies?: unknown }).currencies ?? {};
  if (typeof currencies !== 'object' || currencies === null || Array.isArray(currencies)) {
    problems.push('"currencies" must be an object like {"europe-west1": "EUR"}');
  }
  const result = buildRegionMap(entries, problems.length > 0 ? {} : (currencies as Record<string, unknown>));
  return problems.length > 0
    ? { problems: [...problems, ...result.problems], regionNames: result.regionNames }
    : result;
}

/** The map in the compact MOVR_REGIONS form. */
export function formatRegionMap(map: RegionMap): string {
  return map.regions.map(({ region, cities }) => `${region}=${cities.map((c) => c.name).join(',')}`).join(';');
}
