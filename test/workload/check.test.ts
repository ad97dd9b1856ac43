// `movr workload check`: every invariant holds on MovR's own data, each kind of violation is
// found, counted and named with examples, and a database made by `cockroach workload init movr`
// (which breaks several invariants by design) is reported on rather than crashed on.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/connect.ts';
import { EXAMPLES, INVARIANTS, type CheckResult, checkInvariants, formatCheck } from '../../src/workload/check.ts';
import { DEFAULT_INIT_OPTIONS, initWorkload } from '../../src/workload/init.ts';
import { runMovr } from '../support/cli.ts';
import { type TestDatabaseKind, createTestDatabase, describeEachDatabase, emptyTables, postgresAvailable } from '../support/databases.ts';
import { WORKLOAD_DDL } from '../support/workload-ddl.ts';

const BASE_TIME = new Date('2025-06-01T14:00:00Z');

function failures(result: CheckResult): Record<string, number> {
  return Object.fromEntries(result.failed.map((r) => [r.name, r.violations]));
}

function examplesOf(result: CheckResult, name: string): string[] {
  return result.results.find((r) => r.name === name)?.examples ?? [];
}

const sql = (db: Database, text: string, params: unknown[] = []) => db.execute(text, params);

describeEachDatabase('checkInvariants on MovR data', (t) => {
  it('finds nothing wrong in a freshly loaded data set, and says so', async () => {
    await initWorkload(t.db, { ...DEFAULT_INIT_OPTIONS, drop: true, baseTime: BASE_TIME, demoPasswords: 'fixed' });
    const result = await checkInvariants(t.db);
    expect(result.failed).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.results.map((r) => r.name)).toEqual(INVARIANTS.map((i) => i.name));
    expect(result.results.every((r) => r.violations === 0 && r.examples.length === 0)).toBe(true);
    expect(formatCheck(result)).toMatch(/check: all 14 invariants hold$/);
  });

  it('finds nothing wrong in an empty database', async () => {
    await emptyTables(t.db);
    expect((await checkInvariants(t.db)).ok).toBe(true);
  });
});

describeEachDatabase('checkInvariants on a deliberately broken database', (t) => {
  const owner = randomUUID();
  const ids = {
    inUseNoRide: randomUUID(),
    availableWithRide: randomUUID(),
    shared: randomUUID(),
    backwards: randomUUID(),
    openOnAvailable: randomUUID(),
    outside: randomUUID(),
    twiceA: randomUUID(),
    twiceB: randomUUID(),
    crossCity: randomUUID(),
    bostonVehicle: randomUUID(),
    orphanRide: randomUUID(),
    rider2: randomUUID(),
  };
  let result: CheckResult;

  beforeAll(async () => {
    const db = t.db;
    await emptyTables(db);
    // MovR's own guards would refuse some of these rows: remove them in this scratch database.
    for (const statement of [
      'DROP INDEX rides_one_open_ride_per_vehicle',
      'DROP INDEX rides_one_open_ride_per_rider',
      'ALTER TABLE rides DROP CONSTRAINT check_vehicle_city_city',
      'ALTER TABLE vehicle_location_histories DROP CONSTRAINT fk_city_ref_rides',
      'ALTER TABLE user_promo_codes DROP CONSTRAINT user_promo_codes_code_fk',
    ]) {
      await sql(db, statement);
    }
    await sql(db, `INSERT INTO users (id, city, name) VALUES ($1, 'new york', 'Owner'), ($2, 'new york', 'Rider Two')`, [
      owner,
      ids.rider2,
    ]);
    await sql(
      db,
      `INSERT INTO vehicles (id, city, type, owner_id, status) VALUES
         ($1, 'new york', 'bike', $3, 'in_use'),
         ($2, 'new york', 'bike', $3, 'available'),
         ($4, 'new york', 'scooter', $3, 'in_use')`,
      [ids.inUseNoRide, ids.availableWithRide, owner, ids.shared],
    );
    await sql(db, `INSERT INTO users (id, city, name) VALUES ($1, 'boston', 'Bostonian')`, [owner]);
    await sql(db, `INSERT INTO vehicles (id, city, type, status) VALUES ($1, 'boston', 'bike', 'available')`, [ids.bostonVehicle]);
    await sql(
      db,
      `INSERT INTO rides (id, city, vehicle_city, rider_id, vehicle_id, start_address, end_address, start_time, end_time, revenue) VALUES
         -- ended before it started, without an end address, with negative revenue
         ($1, 'new york', 'new york', $2, $3, 'a', NULL, '2025-06-01 10:00:00', '2025-06-01 09:00:00', -1.50),
         -- open, on a vehicle marked available
         ($4, 'new york', 'new york', $2, $5, 'a', NULL, '2025-06-01 10:00:00', NULL, NULL),
         -- a vehicle with two open rides, by two riders: the first rider now has two open rides
         ($6, 'new york', 'new york', $2, $7, 'a', NULL, '2025-06-01 11:00:00', NULL, NULL),
         ($8, 'new york', 'new york', $9, $7, 'a', NULL, '2025-06-01 11:00:00', NULL, NULL),
         -- a ride in new york on a boston vehicle
         ($10, 'new york', 'boston', $9, $11, 'a', 'b', '2025-06-01 08:00:00', '2025-06-01 08:30:00', 3.00),
         -- a ride whose points fall outside it
         ($12, 'new york', 'new york', $9, $3, 'a', 'b', '2025-06-01 07:00:00', '2025-06-01 07:30:00', 2.00)`,
      [
        ids.backwards,
        owner,
        ids.inUseNoRide,
        ids.openOnAvailable,
        ids.availableWithRide,
        ids.twiceA,
        ids.shared,
        ids.twiceB,
        ids.rider2,
        ids.crossCity,
        ids.bostonVehicle,
        ids.outside,
      ],
    );
    await sql(
      db,
      `INSERT INTO vehicle_location_histories (city, ride_id, "timestamp", lat, long) VALUES
         ('new york', $1, '2025-06-01 06:59:59', 40.7, -74.0),
         ('new york', $1, '2025-06-01 07:15:00', 40.7, -74.0),
         ('new york', $1, '2025-06-01 07:31:00', 40.7, -74.0),
         ('new york', $2, '2025-06-01 07:15:00', 40.7, -74.0)`,
      [ids.outside, ids.orphanRide],
    );
    await sql(db, `INSERT INTO promo_codes (code) VALUES ('real_code')`);
    await sql(
      db,
      `INSERT INTO user_promo_codes (city, user_id, code, usage_count) VALUES
         ('new york', $1, 'real_code', -2), ('new york', $1, 'no_such_code', 0)`,
      [owner],
    );
    result = await checkInvariants(db);
  });

  it('fails and counts each kind of violation, and only those', () => {
    expect(result.ok).toBe(false);
    expect(failures(result)).toEqual({
      vehicle_in_use_without_open_ride: 1,
      vehicle_with_open_ride_not_in_use: 1,
      vehicle_with_several_open_rides: 1,
      rider_with_several_open_rides: 1,
      ride_vehicle_city_differs: 1,
      ride_ends_before_it_starts: 1,
      ride_with_negative_revenue: 1,
      ended_ride_without_end_address: 1,
      location_without_ride: 1,
      location_outside_ride: 2,
      applied_promo_code_missing: 1,
      promo_code_negative_usage: 1,
    });
    expect(result.results.filter((r) => r.error !== undefined)).toEqual([]);
  });

  it('names the violating rows', () => {
    expect(examplesOf(result, 'vehicle_in_use_without_open_ride')).toEqual([`new york/${ids.inUseNoRide}`]);
    expect(examplesOf(result, 'vehicle_with_open_ride_not_in_use')).toEqual([`new york/${ids.availableWithRide}`]);
    expect(examplesOf(result, 'vehicle_with_several_open_rides')).toEqual([`new york/${ids.shared}`]);
    expect(examplesOf(result, 'rider_with_several_open_rides')).toEqual([`new york/${owner}`]);
    expect(examplesOf(result, 'ride_vehicle_city_differs')).toEqual([`new york/${ids.crossCity}`]);
    expect(examplesOf(result, 'ride_ends_before_it_starts')).toEqual([`new york/${ids.backwards}`]);
    expect(examplesOf(result, 'ride_with_negative_revenue')).toEqual([`new york/${ids.backwards}`]);
    expect(examplesOf(result, 'ended_ride_without_end_address')).toEqual([`new york/${ids.backwards}`]);
    expect(examplesOf(result, 'location_without_ride')).toEqual([`new york/${ids.orphanRide}@2025-06-01 07:15:00`]);
    expect(examplesOf(result, 'location_outside_ride')).toEqual([
      `new york/${ids.outside}@2025-06-01 06:59:59`,
      `new york/${ids.outside}@2025-06-01 07:31:00`,
    ]);
    expect(examplesOf(result, 'applied_promo_code_missing')).toEqual([`new york/${owner}/no_such_code`]);
    expect(examplesOf(result, 'promo_code_negative_usage')).toEqual([`new york/${owner}/real_code`]);
  });

  it('reports every failure by name, with counts and examples', () => {
    const text = formatCheck(result);
    for (const name of Object.keys(failures(result))) expect(text).toMatch(new RegExp(`^  FAIL +${name} +\\d+ violations?: `, 'm'));
    expect(text).toMatch(/^ {2}ok +ride_without_rider /m);
    expect(text).toContain(`e.g. new york/${ids.outside}@2025-06-01 06:59:59, new york/${ids.outside}@2025-06-01 07:31:00`);
    expect(text).toMatch(/check: 12 of 14 invariants fail \(13 violations\)$/);
  });
});

/**
 * Data shaped like `cockroach workload init movr`'s: vehicle statuses drawn at random (in_use
 * without rides), random ride times, location points at random times, open rides sharing a
 * vehicle, codes applied that do not exist. `count` vehicles, rides and points.
 */
async function loadWorkloadShapedData(db: Database, count: number): Promise<void> {
  const riders = Array.from({ length: 3 }, () => randomUUID());
  for (const id of riders) await sql(db, `INSERT INTO users (id, city, name) VALUES ($1, 'amsterdam', 'Rider')`, [id]);
  const vehicles = Array.from({ length: count }, () => randomUUID());
  for (const [i, id] of vehicles.entries()) {
    await sql(db, `INSERT INTO vehicles (id, city, type, owner_id, status) VALUES ($1, 'amsterdam', 'bike', $2, $3)`, [
      id,
      riders[i % riders.length],
      i % 2 === 0 ? 'in_use' : 'available',
    ]);
  }
  const rides = Array.from({ length: count }, () => randomUUID());
  for (const [i, id] of rides.entries()) {
    await sql(
      db,
      `INSERT INTO rides (id, city, vehicle_city, rider_id, vehicle_id, start_address, end_address, start_time, end_time, revenue)
       VALUES ($1, 'amsterdam', 'amsterdam', $2, $3, 'a', $4, '2025-05-01 10:00:00', $5, $6)`,
      [id, riders[0], vehicles[0], i % 2 ? 'b' : null, i % 2 ? '2025-05-02 10:00:00' : null, i % 2 ? '12.00' : null],
    );
    await sql(db, `INSERT INTO vehicle_location_histories (city, ride_id, "timestamp", lat, long) VALUES ('amsterdam', $1, $2, 52.3, 4.9)`, [
      id,
      `2025-04-${String(1 + i).padStart(2, '0')} 00:00:00`,
    ]);
  }
  await sql(db, `INSERT INTO user_promo_codes (city, user_id, code, usage_count) VALUES ('amsterdam', $1, 'NOPE', 1)`, [riders[0]]);
}

for (const kind of ['pglite', 'postgres'] as TestDatabaseKind[]) {
  const declare = kind === 'postgres' && !postgresAvailable() ? describe.skip : describe;
  declare(`checkInvariants on a database made by cockroach workload init movr [${kind}]`, () => {
    let database: Awaited<ReturnType<typeof createTestDatabase>>;

    beforeAll(async () => {
      database = await createTestDatabase(kind, { migrated: false });
      for (const statement of WORKLOAD_DDL) await sql(database.db, statement);
      await loadWorkloadShapedData(database.db, 8);
    });

    afterAll(async () => {
      await database?.destroy();
    });

    it('reports the workload data’s violations by name instead of crashing', async () => {
      const result = await checkInvariants(database.db);
      expect(result.results.filter((r) => r.error !== undefined)).toEqual([]);
      expect(failures(result)).toEqual({
        vehicle_in_use_without_open_ride: 3, // vehicles 2, 4, 6 (vehicle 0 has open rides)
        vehicle_with_several_open_rides: 1,
        rider_with_several_open_rides: 1,
        location_outside_ride: 8,
        applied_promo_code_missing: 1,
      });
      expect(examplesOf(result, 'location_outside_ride')).toHaveLength(EXAMPLES);
      expect(formatCheck(result)).toMatch(/^ {9} +e\.g\. amsterdam\/.*, …$/m);
    });

    it('movr workload check exits 1 and lists them', { timeout: 60_000 }, async () => {
      if (kind === 'pglite') await database.db.close(); // the command opens the folder itself
      const result = await runMovr(['workload', 'check', '--db', database.url]);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stdout).toContain(`Checking ${kind === 'pglite' ? 'pglite:' : 'postgres'}`);
      for (const name of ['vehicle_in_use_without_open_ride', 'location_outside_ride', 'applied_promo_code_missing']) {
        expect(result.stdout).toMatch(new RegExp(`^  FAIL +${name} `, 'm'));
      }
      expect(result.stdout).toMatch(/check: 5 of 14 invariants fail/);
    });
  });
}

describe('movr workload check', () => {
  it('exits 0 on a consistent database', { timeout: 60_000 }, async () => {
    const database = await createTestDatabase('pglite');
    try {
      await initWorkload(database.db, { ...DEFAULT_INIT_OPTIONS, drop: true, baseTime: BASE_TIME, demoPasswords: 'fixed' });
      await database.db.close();
      const result = await runMovr(['workload', 'check', '--db', database.url]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain('check: all 14 invariants hold');
    } finally {
      await database.destroy();
    }
  });
});
