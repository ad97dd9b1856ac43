// The demo set of the embedded first start (DEMO_INIT_OPTIONS, `movr workload init --demo`):
// at least 5 available vehicles in every city, every vehicle placed near its city's centre, and
// a few ended rides with routes and receipts for each demo account, all within the data's rules.
import { describe, expect, it } from 'vitest';
import { DEFAULT_REGION_MAP, cityCentre } from '../../src/region-map.ts';
import { checkInvariants } from '../../src/workload/check.ts';
import { MovrGenerator, VEHICLE_SPREAD_M } from '../../src/workload/generate.ts';
import { DEFAULT_INIT_OPTIONS, DEMO_INIT_OPTIONS, initWorkload } from '../../src/workload/init.ts';
import { describeEachDatabase } from '../support/databases.ts';

const BASE_TIME = new Date('2025-06-01T14:00:00Z');

describe('the demo generator', () => {
  const g = new MovrGenerator({ ...DEMO_INIT_OPTIONS, baseTime: BASE_TIME });

  it('has at least 5 available vehicles in every city', () => {
    const available = new Map<string, number>();
    for (let i = 0; i < g.options.numVehicles; i++) {
      const vehicle = g.vehicle(i);
      if (vehicle.status === 'available') available.set(vehicle.city, (available.get(vehicle.city) ?? 0) + 1);
    }
    for (const city of DEFAULT_REGION_MAP.cities) expect(available.get(city.name), city.name).toBeGreaterThanOrEqual(5);
  });

  it('places every vehicle within a few kilometres of its city’s centre', () => {
    for (let i = 0; i < g.options.numVehicles; i++) {
      const vehicle = g.vehicle(i);
      const centre = cityCentre(DEFAULT_REGION_MAP.findCity(vehicle.city)!);
      const north = (vehicle.lat - centre.lat) * 111_320;
      const east = (vehicle.long - centre.long) * 111_320 * Math.cos((centre.lat * Math.PI) / 180);
      expect(Math.hypot(north, east)).toBeLessThanOrEqual(VEHICLE_SPREAD_M + 1);
    }
  });

  it('keeps the CockroachDB defaults as they were (no floor on available vehicles, no demo rides)', () => {
    expect(DEFAULT_INIT_OPTIONS).toMatchObject({ numUsers: 50, numVehicles: 15, numRides: 500, numHistories: 1000, numPromoCodes: 1000 });
    expect(DEFAULT_INIT_OPTIONS).not.toHaveProperty('minAvailablePerCity');
    expect(DEFAULT_INIT_OPTIONS).not.toHaveProperty('demoRidesPerAccount');
  });
});

describeEachDatabase('the demo set loaded', (t) => {
  it('gives each demo account ended rides with routes and receipts, in its city’s currency, and breaks no rule', { timeout: 120_000 }, async () => {
    const result = await initWorkload(t.db, { ...DEMO_INIT_OPTIONS, baseTime: BASE_TIME, demoPasswords: 'fixed', drop: true });
    const rows = await t.db.execute(
      `SELECT c.username AS username, r.city AS city, count(DISTINCT r.id)::int AS rides,
              count(DISTINCT rr.ride_id)::int AS receipts, count(h.ride_id)::int AS points, sum(DISTINCT rr.total_cents)::int AS total
       FROM user_credentials c
       JOIN rides r ON r.city = c.city AND r.rider_id = c.user_id AND r.end_time IS NOT NULL
       LEFT JOIN ride_receipts rr ON rr.city = r.city AND rr.ride_id = r.id
       LEFT JOIN vehicle_location_histories h ON h.city = r.city AND h.ride_id = r.id
       GROUP BY c.username, r.city ORDER BY c.username`,
    );
    expect(rows.map((row) => row.username)).toEqual(['demo-newyork', 'demo-paris', 'demo-sanfrancisco']);
    for (const row of rows) {
      expect(Number(row.rides)).toBe(3);
      expect(Number(row.receipts)).toBe(3);
      expect(Number(row.points)).toBeGreaterThanOrEqual(3 * 6);
    }
    const available = await t.db.execute(
      "SELECT city, count(*)::int AS n FROM vehicles WHERE status = 'available' AND lat IS NOT NULL GROUP BY city",
    );
    expect(available).toHaveLength(9);
    for (const row of available) expect(Number(row.n), String(row.city)).toBeGreaterThanOrEqual(5);
    expect(result.rows.ride_receipts).toBe(9);
    const report = await checkInvariants(t.db);
    expect(report.failed).toEqual([]);
  });
});
