// The region map: the default nine cities, maps from configuration (compact and JSON forms)
// and their validation, a map as a value that its cities and look-ups come from, city centres
// for cities without coordinates, and the generator on a custom map.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_REGION_MAP,
  buildRegionMap,
  cityCentre,
  formatRegionMap,
  parseRegionMap,
  regionMapFromJson,
} from '../../src/region-map.ts';
import { regionLabel } from '../../src/web/pages/format.ts';
import { MovrGenerator, demoAccounts } from '../../src/workload/generate.ts';
import { buildTestApp } from '../support/app.ts';
import { TEST_PASSWORD, createUser, uniqueUsername } from '../support/factories.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { Browser, formTokenOf } from '../web/helpers.ts';

const WITH_CENTRAL =
  'us-east1=new york,boston,washington dc;us-west1=san francisco,seattle,los angeles;' +
  'europe-west1=amsterdam,paris,rome;us-central1=chicago,detroit,minneapolis';

function mapOf(text: string) {
  const result = parseRegionMap(text);
  expect(result.problems).toEqual([]);
  return result.map!;
}

describe('the default region map', () => {
  it('has the workload’s nine cities in three regions, with their centres', () => {
    const { regionNames, cities } = DEFAULT_REGION_MAP;
    expect(regionNames).toEqual(['us-east1', 'us-west1', 'europe-west1']);
    expect(cities.map((c) => `${c.region}:${c.name}`)).toEqual([
      'us-east1:new york',
      'us-east1:boston',
      'us-east1:washington dc',
      'us-west1:san francisco',
      'us-west1:seattle',
      'us-west1:los angeles',
      'europe-west1:amsterdam',
      'europe-west1:paris',
      'europe-west1:rome',
    ]);
    for (const city of cities) {
      expect(city.lat).toBeTypeOf('number');
      expect(city.long).toBeTypeOf('number');
    }
    expect(DEFAULT_REGION_MAP.findCity('paris')).toEqual({ name: 'paris', region: 'europe-west1', lat: 48.8566, long: 2.3522, timeZone: 'Europe/Paris' });
    expect(DEFAULT_REGION_MAP.regions.map((r) => r.currency)).toEqual(['USD', 'USD', 'EUR']);
    expect([DEFAULT_REGION_MAP.currencyOf('rome'), DEFAULT_REGION_MAP.currencyOf('seattle')]).toEqual(['EUR', 'USD']);
    expect([DEFAULT_REGION_MAP.timeZoneOf('seattle'), DEFAULT_REGION_MAP.timeZoneOf('atlantis')]).toEqual(['America/Los_Angeles', 'UTC']);
  });

  it('lists an instance’s own region first', () => {
    const map = DEFAULT_REGION_MAP;
    expect(map.citiesByRegion().map((r) => r.region)).toEqual(['us-east1', 'us-west1', 'europe-west1']);
    expect(map.citiesByRegion('europe-west1').map((r) => r.region)).toEqual(['europe-west1', 'us-east1', 'us-west1']);
    expect(map.citiesByRegion('europe-west1')[0]!.cities.map((c) => c.name)).toEqual(['amsterdam', 'paris', 'rome']);
  });

  it('generates the same data set as before the map was configurable, byte for byte', () => {
    // Digest of every row of the default data set, computed with the code before this change.
    const g = new MovrGenerator({
      regions: DEFAULT_REGION_MAP,
      seed: 1,
      numUsers: 50,
      numVehicles: 15,
      numRides: 500,
      numHistories: 1000,
      numPromoCodes: 1000,
      baseTime: new Date('2025-01-01T00:00:00Z'),
    });
    const hash = createHash('sha256');
    const o = g.options;
    for (let i = 0; i < o.numUsers; i++) hash.update(JSON.stringify(g.user(i)));
    for (let i = 0; i < o.numVehicles; i++) {
      // Positions came later (drawn last, so every other value is unchanged).
      const { lat: _lat, long: _long, ...vehicle } = g.vehicle(i);
      hash.update(JSON.stringify(vehicle));
    }
    for (let i = 0; i < o.numRides; i++) hash.update(JSON.stringify(g.ride(i)));
    for (let i = 0; i < o.numHistories; i++) hash.update(JSON.stringify(g.history(i)));
    for (let i = 0; i < o.numPromoCodes; i++) hash.update(JSON.stringify(g.promoCode(i)));
    for (let i = 0; i < 3; i++) hash.update(JSON.stringify(g.demoUser(i)));
    expect(hash.digest('hex')).toBe('4367ec5cce93cc8e32157090b61d43a011f42a6f846dbd407527d1c9c5992b27');
    expect(g.demoAccounts.map((a) => a.username)).toEqual(['demo-newyork', 'demo-sanfrancisco', 'demo-paris']);
  });
});

describe('a region map as a value', () => {
  it('has its own cities, regions and look-ups, and leaves the default as it is', () => {
    const central = mapOf(WITH_CENTRAL);
    expect(central.regionNames).toEqual(['us-east1', 'us-west1', 'europe-west1', 'us-central1']);
    expect(central.cities).toHaveLength(12);
    expect(central.findCity('chicago')).toEqual({ name: 'chicago', region: 'us-central1' });
    expect(central.findCity('new york')?.lat).toBe(40.7128);
    expect(central.citiesByRegion('us-central1')[0]).toEqual({
      region: 'us-central1',
      currency: 'USD',
      cities: [
        { name: 'chicago', region: 'us-central1' },
        { name: 'detroit', region: 'us-central1' },
        { name: 'minneapolis', region: 'us-central1' },
      ],
    });
    expect(DEFAULT_REGION_MAP.findCity('chicago')).toBeUndefined();
    expect(DEFAULT_REGION_MAP.cities).toHaveLength(9);
  });

  it('can replace the default entirely: cities it leaves out are not served', () => {
    const map = mapOf('europe-west1=paris,berlin');
    expect(map.cities.map((c) => c.name)).toEqual(['paris', 'berlin']);
    expect(map.findCity('new york')).toBeUndefined();
  });

  it('drives the generator: rows only in its cities, one demo account per region', () => {
    const central = mapOf(WITH_CENTRAL);
    const g = new MovrGenerator({
      regions: central,
      seed: 1,
      numUsers: 24,
      numVehicles: 24,
      numRides: 48,
      numHistories: 96,
      numPromoCodes: 0,
      baseTime: new Date('2025-01-01T00:00:00Z'),
    });
    const names = new Set(central.cities.map((c) => c.name));
    const userCities = Array.from({ length: 24 }, (_, i) => g.user(i).city);
    expect(new Set(userCities)).toEqual(names);
    for (let i = 0; i < 48; i++) expect(names.has(g.ride(i).city)).toBe(true);
    expect(g.demoAccounts).toEqual([
      { username: 'demo-newyork', city: 'new york' },
      { username: 'demo-sanfrancisco', city: 'san francisco' },
      { username: 'demo-paris', city: 'paris' },
      { username: 'demo-chicago', city: 'chicago' },
    ]);
    expect(g.demoUser(3).city).toBe('chicago');
    // Points of a city without coordinates cluster around its stand-in centre.
    const centre = cityCentre(central.findCity('chicago')!);
    for (let i = 0; i < 96; i++) {
      const point = g.history(i);
      const c = cityCentre(central.findCity(point.city)!);
      expect(Math.abs(point.lat - c.lat)).toBeLessThan(0.2);
      expect(Math.abs(point.long - c.long)).toBeLessThan(0.2);
    }
    expect(centre).toEqual(cityCentre({ name: 'chicago', region: 'anywhere' }));
    expect(g.user(23).city).toBe('minneapolis');
  });

  it('demo accounts: one per region, in the first city of regions the defaults do not cover', () => {
    expect(demoAccounts(mapOf('us-west1=los angeles,san francisco;asia-east1=hong kong').cities)).toEqual([
      { username: 'demo-sanfrancisco', city: 'san francisco' },
      { username: 'demo-hongkong', city: 'hong kong' },
    ]);
  });
});

describe('cityCentre', () => {
  it('is the known centre of a default city', () => {
    expect(cityCentre(DEFAULT_REGION_MAP.findCity('rome')!)).toEqual({ lat: 41.9028, long: 12.4964 });
  });

  it('gives a city without coordinates a stand-in that depends on its name only', () => {
    const a = cityCentre({ name: 'detroit', region: 'us-central1' });
    expect(cityCentre({ name: 'detroit', region: 'elsewhere1' })).toEqual(a);
    expect(cityCentre({ name: 'chicago', region: 'us-central1' })).not.toEqual(a);
    for (const name of ['a', 'chicago', 'minneapolis', 'são paulo', 'x'.repeat(200)]) {
      const { lat, long } = cityCentre({ name, region: 'r1' });
      expect(lat).toBeGreaterThanOrEqual(-50);
      expect(lat).toBeLessThan(60);
      expect(long).toBeGreaterThanOrEqual(-180);
      expect(long).toBeLessThan(180);
    }
  });
});

describe('parseRegionMap (MOVR_REGIONS)', () => {
  it('reads the compact form, keeping the order of regions and cities', () => {
    const map = mapOf(' us-central1 = chicago , detroit ; us-east1=new york; ');
    expect(map.regions).toEqual([
      { region: 'us-central1', currency: 'USD', cities: [{ name: 'chicago', region: 'us-central1' }, { name: 'detroit', region: 'us-central1' }] },
      { region: 'us-east1', currency: 'USD', cities: [{ name: 'new york', region: 'us-east1', lat: 40.7128, long: -74.006, timeZone: 'America/New_York' }] },
    ]);
    expect(formatRegionMap(mapOf(WITH_CENTRAL))).toBe(WITH_CENTRAL);
    expect(formatRegionMap(DEFAULT_REGION_MAP)).toBe(WITH_CENTRAL.replace(';us-central1=chicago,detroit,minneapolis', ''));
  });

  it.each([
    ['a city in two regions', 'us-east1=boston;us-west1=boston', '"boston" is in two regions: us-east1 and us-west1'],
    ['a city twice in one region', 'us-east1=boston,boston', '"boston" is listed twice in region us-east1'],
    ['an empty region', 'us-east1=boston;us-central1=', 'region us-central1 has no cities'],
    ['a blank city', 'us-east1=boston, ,rome', 'a city name in region us-east1 is blank'],
    ['a blank region name', '=chicago', 'a region name is blank (its cities: chicago)'],
    ['a region that is not a CockroachDB region name', 'US_Central=chicago', '"US_Central" is not a valid region name'],
    ['a region name with a space', 'us central=chicago', '"us central" is not a valid region name'],
    ['a region name ending in a dash', 'us-=chicago', '"us-" is not a valid region name'],
    ['a duplicate region', 'us-east1=boston;us-east1=new york', 'region us-east1 is listed twice'],
    ['a part without =', 'us-east1=boston;chicago', '"chicago" has no "="'],
  ])('refuses %s', (_, text, problem) => {
    const result = parseRegionMap(text);
    expect(result.map).toBeUndefined();
    expect(result.problems.join('\n')).toContain(problem);
  });

  it('names every problem at once', () => {
    const result = parseRegionMap('us-east1=boston,;us-east1=;Bad=boston;=x');
    expect(result.problems).toEqual([
      'a city name in region us-east1 is blank',
      'region us-east1 is listed twice',
      'region us-east1 has no cities',
      '"Bad" is not a valid region name: use lowercase letters, digits and dashes, starting with a letter (e.g. us-central1)',
      '"boston" is in two regions: us-east1 and Bad',
      'a region name is blank (its cities: x)',
    ]);
    expect(result.regionNames).toEqual(['us-east1', 'us-east1', 'Bad']);
  });

  it('refuses an empty map', () => {
    expect(buildRegionMap([]).problems).toEqual(['no regions are given']);
  });
});

describe('regionMapFromJson (MOVR_REGIONS_FILE)', () => {
  it('reads {"regions": {...}} with names or {name, lat, long}', () => {
    const result = regionMapFromJson({
      regions: { 'us-east1': ['new york'], 'us-central1': ['detroit', { name: 'chicago', lat: 41.8781, long: -87.6298 }] },
    });
    expect(result.problems).toEqual([]);
    expect(result.map?.regions[1]?.cities).toEqual([
      { name: 'detroit', region: 'us-central1' },
      { name: 'chicago', region: 'us-central1', lat: 41.8781, long: -87.6298 },
    ]);
  });

  it('reads time zones and currencies', () => {
    const result = regionMapFromJson({
      regions: { 'ap-northeast1': [{ name: 'tokyo', lat: 35.68, long: 139.69, timeZone: 'Asia/Tokyo' }] },
      currencies: { 'ap-northeast1': 'USD' },
    });
    expect(result.problems).toEqual([]);
    expect(result.map?.timeZoneOf('tokyo')).toBe('Asia/Tokyo');
    expect(result.map?.currencyOf('tokyo')).toBe('USD');
    expect(regionMapFromJson({ regions: { 'eu-north1': ['oslo'] } }).map?.currencyOf('oslo')).toBe('EUR');
    expect(regionMapFromJson({ regions: { x1: [{ name: 'a', timeZone: 'Mars/Olympus' }] } }).problems.join()).toContain('unknown time zone');
    expect(regionMapFromJson({ regions: { x1: ['a'] }, currencies: { x1: 'GBP', y1: 'USD' } }).problems.sort()).toEqual([
      'a currency is given for y1, which is not a region of the map',
      'the currency of x1 must be one of USD, EUR',
    ]);
  });

  it.each([
    [[], 'must be an object like {"regions"'],
    [{ cities: {} }, 'must be an object like {"regions"'],
    [{ regions: { 'us-east1': 'boston' } }, 'the cities of region us-east1 must be a list'],
    [{ regions: { 'us-east1': [42] } }, 'a city of region us-east1 is neither a name nor'],
    [{ regions: { 'us-east1': [{ name: 'boston', lat: 42 }] } }, '"boston" needs both lat (-90..90) and long (-180..180), or neither'],
    [{ regions: { 'us-east1': [{ name: 'boston', lat: 91, long: 0 }] } }, '"boston" needs both lat'],
    [{ regions: { 'us-east1': [{ name: 'boston', lat: '42', long: 0 }] } }, '"boston" needs both lat'],
    [{ regions: { 'us-east1': [] } }, 'region us-east1 has no cities'],
    [{ regions: {} }, 'no regions are given'],
  ])('refuses %j', (json, problem) => {
    const result = regionMapFromJson(json);
    expect(result.map).toBeUndefined();
    expect(result.problems.join('\n')).toContain(problem);
  });
});

describe('regionLabel', () => {
  it('reads any region name', () => {
    expect(regionLabel('us-east1')).toBe('US East');
    expect(regionLabel('us-west1')).toBe('US West');
    expect(regionLabel('europe-west1')).toBe('Europe West');
    expect(regionLabel('us-central1')).toBe('US Central');
    expect(regionLabel('us-east4')).toBe('US East 4');
    expect(regionLabel('asia-northeast1')).toBe('Asia Northeast');
    expect(regionLabel('eu-west-1')).toBe('EU West');
  });
});

describeEachDatabase(
  'a configured region map in the site and the API',
  (t) => {
    const env = { MOVR_REGIONS: WITH_CENTRAL, MOVR_REGION: 'us-central1' };

    it('lists the instance region’s cities first, new cities without coordinates', async () => {
      const app = await buildTestApp(t.db, { env });
      try {
        const api = await app.inject({ method: 'GET', url: '/api/v1/cities' });
        expect(api.statusCode).toBe(200);
        const body = api.json() as { instance_region: string; items: { name: string; region: string; lat: number | null }[] };
        expect(body.instance_region).toBe('us-central1');
        expect(body.items.map((c) => c.name)).toEqual([
          'chicago', 'detroit', 'minneapolis',
          'new york', 'boston', 'washington dc',
          'san francisco', 'seattle', 'los angeles',
          'amsterdam', 'paris', 'rome',
        ]);
        expect(body.items[0]).toEqual({ name: 'chicago', region: 'us-central1', lat: null, long: null });
        expect(body.items[3]).toMatchObject({ name: 'new york', lat: 40.7128 });
        const home = await app.inject({ method: 'GET', url: '/' });
        expect(home.statusCode).toBe(200);
        expect(home.body).toContain('US Central');
        expect(home.body.indexOf('Chicago')).toBeGreaterThan(0);
        expect(home.body.indexOf('Chicago')).toBeLessThan(home.body.indexOf('New York'));
        const city = await app.inject({ method: 'GET', url: '/cities/detroit/vehicles' });
        expect(city.statusCode).toBe(200);
      } finally {
        await app.close();
      }
    });

    it('lets riders sign up in a new city, through the site; the default map does not know it', async () => {
      const app = await buildTestApp(t.db, { env });
      try {
        const browser = new Browser(app);
        const response = await browser.postForm('/signup', {
          name: 'Carl Chicago',
          city: 'chicago',
          address: '',
          username: uniqueUsername(),
          password: TEST_PASSWORD,
          cardNumber: '',
          _csrf: await formTokenOf(browser, '/signup'),
        });
        expect(response.statusCode).toBe(303);
        expect(response.headers.location).toBe('/cities/chicago/vehicles');
      } finally {
        await app.close();
      }
      await expect(createUser(t.db, { name: 'Dora Detroit', city: 'detroit', address: null })).rejects.toThrow();
    });
  },
  { kinds: ['pglite'] },
);

