// The generator on its own, without a database: seekability, value ranges, masking.
import { describe, expect, it } from 'vitest';
import { DEFAULT_REGION_MAP } from '../../src/region-map.ts';
import { BIKE_BRANDS } from '../../src/movr/rules.ts';
import {
  DRAWN_COLORS,
  MovrGenerator,
  cityBlockSize,
  cityBlockStart,
  cityIndexOf,
  fixedDemoPassword,
  type GenerateOptions,
} from '../../src/workload/generate.ts';
import { RowRandom, hashString } from '../../src/workload/random.ts';
import { DEFAULT_INIT_OPTIONS } from '../../src/workload/init.ts';

const BASE = new Date('2025-03-04T05:00:00Z');
const DEFAULTS: GenerateOptions = { ...DEFAULT_INIT_OPTIONS, baseTime: BASE };
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('city blocks', () => {
  it('puts row i of n in city floor(i*9/n), in contiguous blocks that cover every row', () => {
    for (const n of [0, 1, 3, 8, 9, 10, 50, 500, 1_000_001]) {
      let covered = 0;
      for (let c = 0; c < DEFAULT_REGION_MAP.cities.length; c++) {
        expect(cityBlockStart(c, n, 9)).toBe(covered);
        covered += cityBlockSize(c, n, 9);
      }
      expect(covered).toBe(n);
      for (let i = 0; i < Math.min(n, 1000); i++) {
        const c = cityIndexOf(i, n, 9);
        expect(c).toBe(Math.floor((i * 9) / n));
        expect(i).toBeGreaterThanOrEqual(cityBlockStart(c, n, 9));
        expect(i).toBeLessThan(cityBlockStart(c + 1, n, 9));
      }
    }
  });
});

describe('RowRandom', () => {
  it('gives the same stream for the same (seed, table, index) and different ones otherwise', () => {
    const key = hashString('users');
    const a = new RowRandom(1).reset(key, 7);
    const first = [a.next(), a.next(), a.next()];
    expect([a.reset(key, 7).next(), a.next(), a.next()]).toEqual(first);
    expect(new RowRandom(1).reset(key, 8).next()).not.toBe(first[0]);
    expect(new RowRandom(2).reset(key, 7).next()).not.toBe(first[0]);
    expect(new RowRandom(1).reset(hashString('rides'), 7).next()).not.toBe(first[0]);
  });

  it('makes version-4 UUIDs that do not repeat', () => {
    const rng = new RowRandom(1);
    const key = hashString('rides');
    const seen = new Set<string>();
    for (let i = 0; i < 200_000; i++) seen.add(rng.reset(key, i).uuid());
    expect(seen.size).toBe(200_000);
    expect([...seen].slice(0, 1000).every((id) => UUID_V4.test(id))).toBe(true);
  });

  it('rejects a seed that is not an integer', () => {
    expect(() => new RowRandom(1.5)).toThrow(/integer/);
  });
});

describe('MovrGenerator', () => {
  it('recomputes any row on its own: order and generator instance do not matter', () => {
    const forward = new MovrGenerator(DEFAULTS);
    const rows = Array.from({ length: 500 }, (_, i) => [
      forward.user(i % 50),
      forward.vehicle(i % 15),
      forward.ride(i),
      forward.history(i * 2),
      forward.promoCode(i),
    ]);
    const other = new MovrGenerator(DEFAULTS);
    for (let i = 499; i >= 0; i -= 7) {
      expect([other.user(i % 50), other.vehicle(i % 15), other.ride(i), other.history(i * 2), other.promoCode(i)]).toEqual(
        rows[i],
      );
    }
  });

  it('depends on the seed and on the base time', () => {
    const a = new MovrGenerator(DEFAULTS);
    const b = new MovrGenerator({ ...DEFAULTS, seed: 2 });
    const c = new MovrGenerator({ ...DEFAULTS, baseTime: new Date(BASE.getTime() + 3_600_000) });
    expect(b.user(0)).not.toEqual(a.user(0));
    expect(c.ride(100).startTime).toBe(a.ride(100).startTime + 3_600_000);
    expect(c.ride(100).id).toBe(a.ride(100).id);
  });

  it('draws vehicle statuses about 40% available, 55% in use, 5% lost when riders are plentiful', () => {
    const n = 10_000;
    const generator = new MovrGenerator({ ...DEFAULTS, numUsers: n, numVehicles: n, numRides: n, numHistories: 0 });
    const counts = { available: 0, in_use: 0, lost: 0 };
    let bikes = 0;
    const badExt: string[] = [];
    for (let i = 0; i < n; i++) {
      const vehicle = generator.vehicle(i);
      counts[vehicle.status]++;
      const ext = JSON.parse(vehicle.extJson) as { color: (typeof DRAWN_COLORS)[number]; brand?: string };
      if (vehicle.type === 'bike') bikes++;
      const brandOk =
        vehicle.type === 'bike'
          ? (BIKE_BRANDS as readonly (string | undefined)[]).includes(ext.brand)
          : ext.brand === undefined;
      if (!DRAWN_COLORS.includes(ext.color) || !brandOk) badExt.push(vehicle.extJson);
    }
    expect(badExt).toEqual([]);
    expect(counts.available / n).toBeCloseTo(0.4, 1);
    expect(counts.in_use / n).toBeCloseTo(0.55, 1);
    expect(counts.lost / n).toBeCloseTo(0.05, 1);
    expect(bikes / n).toBeCloseTo(1 / 3, 1);
    expect(generator.openRides).toBe(counts.in_use);
  });

  it('gives the k-th in-use vehicle of a city an open ride by the k-th user of that city', () => {
    const generator = new MovrGenerator({ ...DEFAULTS, numUsers: 900, numVehicles: 900, numRides: 2000 });
    const usersByCity = new Map<string, string[]>();
    for (let i = 0; i < 900; i++) {
      const user = generator.user(i);
      usersByCity.set(user.city, [...(usersByCity.get(user.city) ?? []), user.id]);
    }
    const inUse = new Map<string, { id: string; location: string }[]>();
    for (let i = 0; i < 900; i++) {
      const vehicle = generator.vehicle(i);
      if (vehicle.status !== 'in_use') continue;
      inUse.set(vehicle.city, [...(inUse.get(vehicle.city) ?? []), { id: vehicle.id, location: vehicle.currentLocation }]);
    }
    const seen = new Map<string, number>();
    for (let r = 0; r < generator.openRides; r++) {
      const ride = generator.ride(r);
      const k = seen.get(ride.city) ?? 0;
      seen.set(ride.city, k + 1);
      expect(ride.endTime).toBeNull();
      expect(ride.riderId).toBe(usersByCity.get(ride.city)?.[k]);
      expect(ride.vehicleId).toBe(inUse.get(ride.city)?.[k]?.id);
      expect(ride.startAddress).toBe(inUse.get(ride.city)?.[k]?.location);
      expect(BASE.getTime() - ride.startTime).toBeGreaterThanOrEqual(60_000);
      expect(BASE.getTime() - ride.startTime).toBeLessThanOrEqual(120 * 60_000);
    }
    expect([...seen.values()].reduce((a, b) => a + b, 0)).toBe([...inUse.values()].flat().length);
    const closed = generator.ride(generator.openRides);
    expect(closed.endTime).not.toBeNull();
    expect(closed.revenue).toMatch(/^\d{1,2}\.\d{2}$/);
  });

  it('demotes in-use vehicles to available when there are not enough rides or riders', () => {
    const generator = new MovrGenerator({ ...DEFAULTS, numUsers: 9, numVehicles: 900, numRides: 5, numHistories: 0 });
    // One user per city: at most one open ride per city, and no more than the 5 rides.
    expect(generator.openRides).toBe(5);
    let inUse = 0;
    for (let i = 0; i < 900; i++) if (generator.vehicle(i).status === 'in_use') inUse++;
    expect(inUse).toBe(5);
  });

  it('spaces the location points of a ride strictly inside its time span', () => {
    const generator = new MovrGenerator({ ...DEFAULTS, numRides: 3, numHistories: 3_001 });
    const times = new Map<string, number[]>();
    for (let k = 0; k < 3_001; k++) {
      const point = generator.history(k);
      times.set(point.rideId, [...(times.get(point.rideId) ?? []), point.timestampMicros]);
      const city = DEFAULT_REGION_MAP.cities.find((c) => c.name === point.city);
      expect(Math.abs(point.lat - (city?.lat ?? 0))).toBeLessThan(0.5);
      expect(Math.abs(point.long - (city?.long ?? 0))).toBeLessThan(0.5);
    }
    for (let r = 0; r < 3; r++) {
      const ride = generator.ride(r);
      const points = times.get(ride.id) ?? [];
      expect(points.length).toBe(r === 0 ? 1_001 : 1_000);
      const end = (ride.endTime ?? BASE.getTime()) * 1000;
      expect(points[0]).toBeGreaterThan(ride.startTime * 1000);
      expect(points.at(-1)).toBeLessThan(end);
      for (let i = 1; i < points.length; i++) expect(points[i]).toBeGreaterThan(points[i - 1] as number);
    }
  });

  it('keeps closed rides within 30 days before the base time and 1 minute to 59 hours long', () => {
    const generator = new MovrGenerator({ ...DEFAULTS, numRides: 5_000 });
    const base = BASE.getTime();
    for (let r = generator.openRides; r < 5_000; r++) {
      const ride = generator.ride(r);
      const end = ride.endTime as number;
      expect(ride.startTime).toBeGreaterThanOrEqual(base - 30 * 86_400_000);
      expect(end).toBeLessThanOrEqual(base);
      expect(end - ride.startTime).toBeGreaterThanOrEqual(60_000);
      expect(end - ride.startTime).toBeLessThanOrEqual(59 * 3_600_000);
    }
  });

  it('makes unique promo codes with 5-30% discounts, some expired and some still valid', () => {
    const generator = new MovrGenerator(DEFAULTS);
    const codes = new Set<string>();
    let expired = 0;
    for (let i = 0; i < 1000; i++) {
      const promo = generator.promoCode(i);
      codes.add(promo.code);
      expect(promo.creationTime).toBeLessThan(BASE.getTime());
      expect(promo.expirationTime).toBeGreaterThan(promo.creationTime);
      if (promo.expirationTime < BASE.getTime()) expired++;
      const rules = JSON.parse(promo.rulesJson) as { type: string; value: string };
      expect(rules.type).toBe('percent_discount');
      const percent = Number(rules.value.replace('%', ''));
      expect(percent).toBeGreaterThanOrEqual(5);
      expect(percent).toBeLessThanOrEqual(30);
    }
    expect(codes.size).toBe(1000);
    expect(expired).toBeGreaterThan(0);
    expect(expired).toBeLessThan(1000);
  });

  it('rejects impossible combinations with a clear message', () => {
    expect(() => new MovrGenerator({ ...DEFAULTS, numRides: 0 })).toThrow(/location histories without rides/);
    expect(() => new MovrGenerator({ ...DEFAULTS, numUsers: 0, numHistories: 0 })).toThrow(
      /no city has both users and vehicles/,
    );
    expect(() => new MovrGenerator({ ...DEFAULTS, numVehicles: 0, numHistories: 0 })).toThrow(
      /no city has both users and vehicles/,
    );
    expect(() => new MovrGenerator({ ...DEFAULTS, numUsers: -1 })).toThrow(/numUsers/);
    expect(() => new MovrGenerator({ ...DEFAULTS, numRides: 1.5 })).toThrow(/numRides/);
    expect(() => new MovrGenerator({ ...DEFAULTS, baseTime: new Date(Number.NaN) })).toThrow(/baseTime/);
  });

  it('has stable, memorable demo passwords', () => {
    const passwords = [0, 1, 2].map(fixedDemoPassword);
    expect(passwords).toEqual([0, 1, 2].map(fixedDemoPassword));
    for (const password of passwords) expect(password).toMatch(/^movr-demo-[a-z]+-[a-z]+$/);
    for (const password of passwords) expect(password.length).toBeGreaterThanOrEqual(12);
    expect(new Set(passwords).size).toBe(3);
  });
});
