// The fleet of a city: vehicles by status, utilisation, idle vehicles, lost and found.
import { beforeEach, describe, expect, it } from 'vitest';
import { rides } from '../../src/db/schema.ts';
import { DAY_MS, WEEK_MS, fleetOverview, idleVehicles, markFound, reportLost, utilisation, vehiclesByStatus } from '../../src/movr/fleet.ts';
import { type Operator, listActions } from '../../src/movr/operators.ts';
import { listVehicles } from '../../src/movr/vehicles.ts';
import { createRide, createUserRow, createVehicle } from '../support/factories.ts';
import { describeEachDatabase, emptyTables } from '../support/databases.ts';

const OPERATOR: Operator = { city: 'seattle', id: '5b0d6a3e-1c2f-4d7e-9a8b-0c1d2e3f4a5b', username: 'olga' };
const NOW = new Date('2026-06-10T12:00:00Z');
const HOUR = 3_600_000;

describeEachDatabase('fleet', (t) => {
  beforeEach(async () => {
    await emptyTables(t.db);
  });

  async function rideRow(vehicleId: string, start: Date, end: Date | null) {
    const rider = await createUserRow(t.db, { city: 'seattle' });
    await t.db.orm.insert(rides).values({
      id: crypto.randomUUID(),
      city: 'seattle',
      vehicleCity: 'seattle',
      riderId: rider.id,
      vehicleId,
      startTime: start,
      endTime: end,
      revenue: end ? '3.00' : null,
    });
  }

  it('counts vehicles by status, every status listed', async () => {
    await createVehicle(t.db, { city: 'seattle' });
    await createVehicle(t.db, { city: 'seattle', status: 'lost' });
    await createVehicle(t.db, { city: 'seattle', status: null });
    await createVehicle(t.db, { city: 'boston' });
    expect(await vehiclesByStatus(t.db.orm, 'seattle')).toEqual([
      { status: 'available', vehicles: 1 },
      { status: 'in_use', vehicles: 0 },
      { status: 'lost', vehicles: 1 },
      { status: 'retired', vehicles: 0 },
      { status: 'unknown', vehicles: 1 },
    ]);
  });

  it('measures utilisation over the last day and week: ridden time over vehicles in service × window', async () => {
    const a = await createVehicle(t.db, { city: 'seattle' });
    await createVehicle(t.db, { city: 'seattle' });
    await createVehicle(t.db, { city: 'seattle', status: 'retired' });
    // 6 hours inside the last day, 2 of them before the day window began; one open ride of 1 hour.
    await rideRow(a, new Date(NOW.getTime() - 26 * HOUR), new Date(NOW.getTime() - 20 * HOUR));
    await rideRow(a, new Date(NOW.getTime() - HOUR), null);
    // Long ago: in neither window.
    await rideRow(a, new Date(NOW.getTime() - 30 * DAY_MS), new Date(NOW.getTime() - 30 * DAY_MS + HOUR));
    const day = await utilisation(t.db.orm, 'seattle', DAY_MS, NOW);
    expect(day.vehicles).toBe(2);
    expect(day.hoursInUse).toBeCloseTo(5, 5);
    expect(day.share).toBeCloseTo(5 / 48, 5);
    const week = await utilisation(t.db.orm, 'seattle', WEEK_MS, NOW);
    expect(week.hoursInUse).toBeCloseTo(7, 5);
    expect(week.share).toBeCloseTo(7 / (2 * 7 * 24), 5);
    expect((await utilisation(t.db.orm, 'boston', DAY_MS, NOW)).share).toBe(0);
  });

  it('lists available vehicles idle for long, longest first', async () => {
    const old = await createVehicle(t.db, { city: 'seattle', creationTime: new Date(NOW.getTime() - 10 * DAY_MS) });
    const riddenLong = await createVehicle(t.db, { city: 'seattle', creationTime: new Date(NOW.getTime() - 20 * DAY_MS) });
    await rideRow(riddenLong, new Date(NOW.getTime() - 5 * DAY_MS), new Date(NOW.getTime() - 5 * DAY_MS + HOUR));
    const recent = await createVehicle(t.db, { city: 'seattle', creationTime: new Date(NOW.getTime() - 20 * DAY_MS) });
    await rideRow(recent, new Date(NOW.getTime() - 3 * HOUR), new Date(NOW.getTime() - 2 * HOUR));
    await createVehicle(t.db, { city: 'seattle', status: 'lost', creationTime: new Date(NOW.getTime() - 30 * DAY_MS) });
    const idle = await idleVehicles(t.db.orm, 'seattle', { now: NOW, idleHours: 48 });
    expect(idle.map((v) => v.vehicle.id)).toEqual([old, riddenLong]);
    expect(idle[1]?.lastRideEnd).toEqual(new Date(NOW.getTime() - 5 * DAY_MS + HOUR));
    expect((await idleVehicles(t.db.orm, 'seattle', { now: NOW, idleHours: 24 * 7 })).map((v) => v.vehicle.id)).toEqual([old]);
  });

  it('reports a vehicle lost (no longer offered), refuses one in use, and marks it found, recording both', async () => {
    const id = await createVehicle(t.db, { city: 'seattle' });
    const lost = await reportLost(t.db, OPERATOR, 'seattle', id);
    expect(lost.status).toBe('lost');
    expect((await listVehicles(t.db.orm, { city: 'seattle' })).items).toEqual([]);
    await expect(reportLost(t.db, OPERATOR, 'seattle', id)).rejects.toMatchObject({ code: 'vehicle_lost' });
    const found = await markFound(t.db, OPERATOR, 'seattle', id, { location: '2 Pike Place' });
    expect(found).toMatchObject({ status: 'available', currentLocation: '2 Pike Place' });
    await expect(markFound(t.db, OPERATOR, 'seattle', id)).rejects.toMatchObject({ code: 'vehicle_not_lost' });
    const rider = await createUserRow(t.db, { city: 'seattle' });
    const ride = await createRide(t.db, rider);
    await expect(reportLost(t.db, OPERATOR, 'seattle', ride.vehicleId ?? '')).rejects.toMatchObject({ code: 'vehicle_in_use' });
    await expect(reportLost(t.db, OPERATOR, 'seattle', 'not-a-uuid')).rejects.toMatchObject({ code: 'vehicle_not_found' });
    const actions = await listActions(t.db.orm);
    expect(actions.items.map((a) => [a.action, a.subject, a.operatorUsername])).toEqual([
      ['vehicle_found', `seattle/${id}`, 'olga'],
      ['vehicle_reported_lost', `seattle/${id}`, 'olga'],
    ]);
    expect((await fleetOverview(t.db.orm, 'seattle')).lost).toEqual([]);
  });
});

describe('fleet windows', () => {
  it('a week is seven days', () => {
    expect(WEEK_MS).toBe(7 * DAY_MS);
  });
});
