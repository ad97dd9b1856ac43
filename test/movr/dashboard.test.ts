// The operators' numbers: a region's or a city's rides and revenue over a period.
import { beforeAll, describe, expect, it } from 'vitest';
import { rideReceipts, rides } from '../../src/db/schema.ts';
import { citiesOf, dashboard, defaultBucket, exportRides, periodOf } from '../../src/movr/dashboard.ts';
import { DEFAULT_REGION_MAP } from '../../src/region-map.ts';
import { createUserRow, createVehicle } from '../support/factories.ts';
import { describeEachDatabase, emptyTables } from '../support/databases.ts';

const regions = DEFAULT_REGION_MAP;
const NOW = new Date('2026-06-10T12:30:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describeEachDatabase('dashboard', (t) => {
  const vehicleOf: Record<string, string> = {};

  beforeAll(async () => {
    await emptyTables(t.db);
    const ride = async (city: string, endsAgo: number, revenue: string, discountCents = 0, open = false) => {
      const rider = await createUserRow(t.db, { city });
      vehicleOf[city] ??= await createVehicle(t.db, { city });
      const id = crypto.randomUUID();
      const end = new Date(NOW.getTime() - endsAgo);
      await t.db.orm.insert(rides).values({
        id,
        city,
        vehicleCity: city,
        riderId: rider.id,
        vehicleId: vehicleOf[city],
        startTime: new Date(end.getTime() - 10 * 60_000),
        endTime: open ? null : end,
        revenue: open ? null : revenue,
      });
      if (!open) {
        await t.db.orm.insert(rideReceipts).values({
          city,
          rideId: id,
          vehicleType: 'scooter',
          minutes: 10,
          unlockCents: 100,
          perMinuteCents: 39,
          fareCents: 490,
          promoCode: discountCents > 0 ? 'TEN' : null,
          discountPercent: 0,
          discountCents,
          totalCents: 490 - discountCents,
          createdAt: end,
        });
      }
    };
    await ride('boston', 2 * HOUR, '4.90');
    await ride('boston', 2 * HOUR + 60_000, '4.41', 49);
    await ride('new york', 3 * DAY, '10.00');
    await ride('paris', HOUR, '7.00');
    await ride('boston', 20 * DAY, '1.00'); // outside the last 7 days
    await ride('boston', HOUR, '0', 0, true); // open: not counted
  });

  it('sums a region’s rides ended in the period, per city, per day, with the busiest vehicles; other regions stay out', async () => {
    const figures = await dashboard(t.db.orm, regions, { kind: 'region', region: 'us-east1' }, { now: NOW });
    expect(figures.cities).toEqual(['new york', 'boston', 'washington dc']);
    expect(figures.bucket).toBe('day');
    expect(figures.totals).toEqual({ rides: 3, revenueCents: 1931, averageFareCents: 644, discountCents: 49, discountedRides: 1 });
    expect(figures.byCity.map((c) => [c.city, c.rides, c.revenueCents])).toEqual([
      ['new york', 1, 1000],
      ['boston', 2, 931],
      ['washington dc', 0, 0],
    ]);
    expect(figures.series).toHaveLength(8);
    expect(figures.series.reduce((sum, p) => sum + p.rides, 0)).toBe(3);
    expect(figures.series.at(-1)).toMatchObject({ at: new Date('2026-06-10T00:00:00Z'), rides: 2, revenueCents: 931 });
    expect(figures.busiestVehicles[0]).toMatchObject({ city: 'boston', id: vehicleOf.boston, rides: 2, revenueCents: 931 });
  });

  it('gives a city’s figures per hour', async () => {
    const figures = await dashboard(t.db.orm, regions, { kind: 'city', city: 'boston' }, { now: NOW, from: new Date(NOW.getTime() - DAY), bucket: 'hour' });
    expect(figures.series).toHaveLength(25);
    expect(figures.series.find((p) => p.rides > 0)).toMatchObject({ at: new Date('2026-06-10T10:00:00Z'), rides: 2 });
    expect(figures.totals.rides).toBe(2);
  });

  it('exports the period’s rides, oldest first, with fare, discount and revenue', async () => {
    const rows = await exportRides(t.db.orm, regions, { kind: 'city', city: 'boston' }, { now: NOW });
    expect(rows.map((r) => [r.revenueCents, r.discountCents, r.promoCode])).toEqual([
      [441, 49, 'TEN'],
      [490, 0, null],
    ]);
  });

  it('refuses unknown places and impossible periods', async () => {
    expect(() => citiesOf(regions, { kind: 'region', region: 'mars' })).toThrow('There is no such region.');
    expect(() => citiesOf(regions, { kind: 'city', city: 'atlantis' })).toThrow('There is no such city.');
    await expect(dashboard(t.db.orm, regions, { kind: 'city', city: 'boston' }, { now: NOW, bucket: 'hour', from: new Date(NOW.getTime() - 30 * DAY) })).rejects.toThrow(/Hourly figures/);
  });
});

describe('periods', () => {
  it('defaults to the last 7 days, in hours up to two days, and refuses more than 92 days or a backwards period', () => {
    const period = periodOf({}, NOW);
    expect(period).toEqual({ from: new Date(NOW.getTime() - 7 * DAY), to: NOW });
    expect(defaultBucket(period)).toBe('day');
    expect(defaultBucket({ from: new Date(NOW.getTime() - DAY), to: NOW })).toBe('hour');
    expect(() => periodOf({ from: new Date(NOW.getTime() - 93 * DAY) }, NOW)).toThrow(/at most 92 days/);
    expect(() => periodOf({ from: NOW, to: NOW }, NOW)).toThrow(/start before it ends/);
  });
});
