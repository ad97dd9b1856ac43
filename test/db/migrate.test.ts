import { randomUUID } from 'node:crypto';
import { getTableConfig, type PgTable } from 'drizzle-orm/pg-core';
import { beforeEach, describe, expect, it } from 'vitest';
import { sqlState, violatedConstraint } from '../../src/db/errors.ts';
import { loadMigrations, migrate, pendingMigrations } from '../../src/db/migrate.ts';
import * as schema from '../../src/db/schema.ts';
import { describeEachDatabase, emptyTables } from '../support/databases.ts';
import { WORKLOAD_DDL } from '../support/workload-ddl.ts';

const tables: PgTable[] = [
  schema.users,
  schema.vehicles,
  schema.rides,
  schema.vehicleLocationHistories,
  schema.promoCodes,
  schema.userPromoCodes,
  schema.userCredentials,
  schema.rideReceipts,
  schema.apiTokens,
  schema.idempotencyKeys,
  schema.sessions,
  schema.operators,
  schema.operatorActions,
];

function dataTypeOf(sqlType: string): string {
  const t = sqlType.toLowerCase();
  if (t.endsWith('[]')) return 'ARRAY';
  if (t.startsWith('timestamp')) return 'timestamp without time zone';
  if (t.startsWith('varchar')) return 'character varying';
  if (t.startsWith('numeric')) return 'numeric';
  return t;
}

describe('migration files', () => {
  it('split into statements that CockroachDB accepts outside transactions', () => {
    const statements = loadMigrations();
    expect(statements.length).toBeGreaterThan(10);
    for (const { sql } of statements) {
      // One statement per chunk, no transaction control, nothing CockroachDB rejects (REFERENCE §6).
      expect(sql).not.toMatch(/\b(BEGIN|COMMIT|SERIAL|TRIGGER|CREATE DOMAIN|LISTEN|NOTIFY|pg_advisory)\b/i);
      expect(sql).not.toMatch(/\bDO\s+\$\$/i);
      expect(sql.replace(/;\s*$/, '')).not.toContain(';');
    }
  });
});

describeEachDatabase('migrations', (t) => {
  beforeEach(async () => {
    await emptyTables(t.db);
  });

  it('have all been applied, and applying them again changes nothing', async () => {
    expect(await pendingMigrations(t.db)).toEqual([]);
    const again = await migrate(t.db);
    expect(again.applied).toEqual([]);
  });

  it('create every column the Drizzle schema declares, with its type and nullability', async () => {
    const rows = await t.db.execute(
      `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
       WHERE table_schema = current_schema()`,
    );
    const actual = new Map(rows.map((r) => [`${String(r.table_name)}.${String(r.column_name)}`, r]));
    let checked = 0;
    for (const table of tables) {
      const config = getTableConfig(table);
      const columnNames = rows.filter((r) => r.table_name === config.name).map((r) => r.column_name);
      expect(columnNames.sort()).toEqual(config.columns.map((c) => c.name).sort());
      for (const column of config.columns) {
        const row = actual.get(`${config.name}.${column.name}`);
        expect(row, `${config.name}.${column.name}`).toBeDefined();
        expect(row?.data_type).toBe(dataTypeOf(column.getSQLType()));
        // Primary key columns are NOT NULL whether or not Drizzle marks them.
        const pk = config.primaryKeys.some((k) => k.columns.some((c) => c.name === column.name));
        expect(row?.is_nullable === 'NO', `${config.name}.${column.name} nullability`).toBe(column.notNull || pk);
        checked++;
      }
    }
    expect(checked).toBe(96); // 38 workload columns, then ours: 2 vehicles (lat, long), 5 user_credentials, 12 ride_receipts, 6 api_tokens, 8 idempotency_keys, 8 sessions, 6 promo_codes, 3 operators, 8 operator_actions
  });

  describe('constraints', () => {
    const city = 'paris';
    const riderA = randomUUID();
    const riderB = randomUUID();
    const vehicle1 = randomUUID();
    const vehicle2 = randomUUID();

    beforeEach(async () => {
      await t.db.execute(`INSERT INTO users (id, city, name) VALUES ($1, $3, 'A'), ($2, $3, 'B')`, [riderA, riderB, city]);
      await t.db.execute(
        `INSERT INTO vehicles (id, city, type, status) VALUES ($1, $3, 'bike', 'available'), ($2, $3, 'scooter', 'available')`,
        [vehicle1, vehicle2, city],
      );
    });

    const insertRide = (rider: string, vehicle: string, ended: boolean, rideCity = city, vehicleCity = city) =>
      t.db.execute(
        `INSERT INTO rides (id, city, vehicle_city, rider_id, vehicle_id, start_time, end_time)
         VALUES ($1, $2, $3, $4, $5, now(), ${ended ? 'now()' : 'NULL'})`,
        [randomUUID(), rideCity, vehicleCity, rider, vehicle],
      );

    const rejection = async (promise: Promise<unknown>) => {
      const error = await promise.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, 'the database accepted what it should refuse').toBeDefined();
      return { state: sqlState(error), constraint: violatedConstraint(error) };
    };

    it('allow one open ride per vehicle and per rider, and any number of ended ones', async () => {
      await insertRide(riderA, vehicle1, true);
      await insertRide(riderA, vehicle1, true);
      await insertRide(riderA, vehicle1, false);
      expect(await rejection(insertRide(riderB, vehicle1, false))).toEqual({
        state: '23505',
        constraint: 'rides_one_open_ride_per_vehicle',
      });
      expect(await rejection(insertRide(riderA, vehicle2, false))).toEqual({
        state: '23505',
        constraint: 'rides_one_open_ride_per_rider',
      });
      await insertRide(riderB, vehicle2, false);
      const open = await t.db.execute('SELECT count(*)::int AS n FROM rides WHERE end_time IS NULL');
      expect(open[0]?.n).toBe(2);
    });

    it('refuse a ride whose vehicle is in another city', async () => {
      const result = await rejection(insertRide(riderA, vehicle1, true, city, 'rome'));
      expect(result.state).toBe('23514'); // check_vehicle_city_city
    });

    it('refuse a user promo code that does not exist', async () => {
      const result = await rejection(
        t.db.execute(`INSERT INTO user_promo_codes (city, user_id, code, usage_count) VALUES ($1, $2, 'NOPE', 0)`, [
          city,
          riderA,
        ]),
      );
      expect(result).toEqual({ state: '23503', constraint: 'user_promo_codes_code_fk' });
    });

    it('refuse a second account with the same username', async () => {
      await t.db.execute(
        `INSERT INTO user_credentials (city, user_id, username, password_hash) VALUES ($1, $2, 'ada', 'x')`,
        [city, riderA],
      );
      const result = await rejection(
        t.db.execute(
          `INSERT INTO user_credentials (city, user_id, username, password_hash) VALUES ($1, $2, 'ada', 'y')`,
          [city, riderB],
        ),
      );
      expect(result).toEqual({ state: '23505', constraint: 'user_credentials_username_key' });
    });

    it('refuse credentials for a user that does not exist', async () => {
      const result = await rejection(
        t.db.execute(
          `INSERT INTO user_credentials (city, user_id, username, password_hash) VALUES ($1, $2, 'ghost', 'x')`,
          [city, randomUUID()],
        ),
      );
      expect(result).toEqual({ state: '23503', constraint: 'user_credentials_user_fk' });
    });
  });

  it('apply a statement whose record is missing, and only that one', async () => {
    const last = loadMigrations().find((s) => s.sql.includes('"rides_one_open_ride_per_rider"'))!;
    await t.db.execute('DROP INDEX rides_one_open_ride_per_rider');
    await t.db.execute('DELETE FROM movr_migrations WHERE migration = $1 AND statement = $2', [last.migration, last.index]);
    const { applied } = await migrate(t.db);
    expect(applied.map((s) => s.sql)).toEqual([last.sql]);
    const indexes = await t.db.execute(`SELECT indexname FROM pg_indexes WHERE indexname = 'rides_one_open_ride_per_rider'`);
    expect(indexes).toHaveLength(1);
  });

  it('adopt a database created by the CockroachDB workload, keeping its data', async () => {
    for (const table of [...schema.TABLE_NAMES_CHILDREN_FIRST, 'movr_migrations']) {
      await t.db.execute(`DROP TABLE IF EXISTS ${table} CASCADE`);
    }
    for (const statement of WORKLOAD_DDL) await t.db.execute(statement);
    const owner = randomUUID();
    // The workload's data breaks MovR's invariants (a vehicle in use without a ride); migrating must not care.
    await t.db.execute(`INSERT INTO users (id, city, name, credit_card) VALUES ($1, 'rome', 'Old', '1234567890')`, [owner]);
    await t.db.execute(
      `INSERT INTO vehicles (id, city, type, owner_id, status) VALUES (gen_random_uuid(), 'rome', 'bike', $1, 'in_use')`,
      [owner],
    );

    const { applied } = await migrate(t.db);
    expect(applied).toHaveLength(loadMigrations().length);
    expect(await pendingMigrations(t.db)).toEqual([]);
    expect((await t.db.execute('SELECT count(*)::int AS n FROM vehicles'))[0]?.n).toBe(1);
    const indexes = await t.db.execute(
      `SELECT indexname FROM pg_indexes WHERE indexname IN ('rides_one_open_ride_per_vehicle', 'user_credentials_username_key')`,
    );
    expect(indexes).toHaveLength(2);
  });
});
