// `movr db regions` and the other CockroachDB geo-partitioning code paths.
//
// CockroachDB does not run here, so:
// - the generated DDL is compared exactly with golden files in test/db/golden/ (regenerate them
//   with UPDATE_GOLDEN=1 npx vitest run test/db/regions.test.ts, then read the diff), and each
//   statement is checked against the statement forms of REFERENCE.md §5;
// - the crdb_region CASE expression is evaluated for every city of the map, in JavaScript and
//   on the real databases (PostgreSQL accepts the same CASE);
// - the lists of city-keyed tables and city-led indexes are checked against a migrated database;
// - `--apply` is run against a simulated CockroachDB (a Database whose execute answers the
//   catalog queries from an in-memory state and records the DDL), which checks the order, the
//   "already done" skipping and the refusals, but not CockroachDB's acceptance of the SQL;
// - the code paths PostgreSQL also accepts run on PostgreSQL and PGlite: the savepoint retry
//   protocol through startRide, and promo code listings with follower reads switched off.
import { readFileSync, writeFileSync } from 'node:fs';
import { type SQL, is, sql } from 'drizzle-orm';
import { PgDialect, PgTable, getTableConfig } from 'drizzle-orm/pg-core';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/connect.ts';
import { loadMigrations } from '../../src/db/migrate.ts';
import {
  type RegionsOptions,
  RegionsError,
  formatRegionsScript,
  partitionName,
  quoteIdent,
  quoteLiteral,
  regionCaseExpression,
  regionsStatements,
} from '../../src/db/regions.ts';
import { applyRegions, cockroachVersion, unmappedCities } from '../../src/db/regions-apply.ts';
import { checkInstanceRegion } from '../../src/db/instance-region.ts';
import * as schema from '../../src/db/schema.ts';
import { CITY_KEYED_TABLES, CITY_LED_INDEXES, GLOBAL_TABLES } from '../../src/db/schema.ts';
import { asOfSystemTime } from '../../src/db/follower-reads.ts';
import { DEFAULT_REGION_MAP, type RegionMap, parseRegionMap } from '../../src/region-map.ts';
import { listActivePromoCodes } from '../../src/movr/promo-codes.ts';
import { endRide, startRide } from '../../src/movr/rides.ts';
import { addVehicle } from '../../src/movr/vehicles.ts';
import { DEFAULT_PRICE_LIST } from '../../src/movr/pricing.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { TEST_CITIES, createUser, insertPromoCode } from '../support/factories.ts';
import { testConfig } from '../support/config.ts';
import { runMovrInProcess } from '../support/cli.ts';

const GOLDEN_DIR = new URL('./golden/', import.meta.url);
const UPDATE_GOLDEN = process.env.UPDATE_GOLDEN === '1';

const CENTRAL_MAP = mapOf(
  'us-east1=new york,boston,washington dc;us-west1=san francisco,seattle,los angeles;' +
    'europe-west1=amsterdam,paris,rome;us-central1=chicago,detroit,minneapolis',
);

function mapOf(text: string): RegionMap {
  const result = parseRegionMap(text);
  if (!result.map) throw new Error(result.problems.join('; '));
  return result.map;
}

function expectGolden(name: string, text: string): void {
  const file = new URL(name, GOLDEN_DIR);
  if (UPDATE_GOLDEN) writeFileSync(file, text);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

/** The statements of a script: comments dropped, split at the `;` that ends a line. */
function statementsOf(script: string): string[] {
  return script
    .split('\n')
    .filter((line) => !line.startsWith('--'))
    .join('\n')
    .split(/;\n/)
    .map((s) => s.trim())
    .filter(Boolean);
}

const esc = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const cityList = (names: readonly string[]) => names.map((n) => quoteLiteral(n)).join(', ');

/**
 * Runs `movr db regions <args>` in this process with the region map given; `open` stands in for
 * opening the database. What it wrote, its exit code and how often it opened a database.
 */
function regionsCommand(
  args: string[],
  options: { regionMap?: RegionMap; databaseUrl?: string; open?: () => Promise<Database> } = {},
) {
  const config = { ...testConfig({ DATABASE_URL: options.databaseUrl ?? 'pglite:memory' }), regionMap: options.regionMap ?? DEFAULT_REGION_MAP };
  return runMovrInProcess(['db', 'regions', ...args], { config, ...(options.open ? { open: options.open } : {}) });
}

/** [city, region] pairs that a CASE expression of the generated form maps to. */
function evaluateCase(expression: string, city: string): string | undefined {
  const lines = expression.split('\n').map((l) => l.trim());
  expect(lines[0]).toBe('CASE');
  expect(lines.at(-1)).toBe('END');
  for (const line of lines.slice(1, -1)) {
    const when = /^WHEN city IN \((.*)\) THEN '([a-z0-9-]+)'$/.exec(line);
    if (when) {
      const literals = [...when[1]!.matchAll(/'((?:[^']|'')*)'/g)].map((m) => m[1]!.replaceAll("''", "'"));
      if (literals.includes(city)) return when[2];
      continue;
    }
    const otherwise = /^ELSE '([a-z0-9-]+)'$/.exec(line);
    if (otherwise) return otherwise[1];
    throw new Error(`unexpected line in CASE: ${line}`);
  }
  return undefined;
}


describe('the generated DDL', () => {
  const cases: [string, RegionsOptions][] = [
    ['regional-by-row.sql', { map: DEFAULT_REGION_MAP, database: 'movr', style: 'regional-by-row' }],
    ['partition-by-list.sql', { map: DEFAULT_REGION_MAP, database: 'movr', style: 'partition-by-list' }],
    [
      'regional-by-row-us-central1.sql',
      { map: CENTRAL_MAP, database: 'movr', style: 'regional-by-row', survive: 'region' },
    ],
    ['partition-by-list-us-central1.sql', { map: CENTRAL_MAP, database: 'movr', style: 'partition-by-list' }],
  ];

  it.each(cases)('matches golden file %s exactly', (file, options) => {
    expectGolden(file, formatRegionsScript(options));
  });

  it.each(cases)('%s is the statements of regionsStatements, in order', (_, options) => {
    expect(statementsOf(formatRegionsScript(options))).toEqual(regionsStatements(options).map((s) => s.sql));
  });

  describe.each([
    ['the default map', DEFAULT_REGION_MAP],
    ['a map with us-central1', CENTRAL_MAP],
  ])('regional-by-row, %s', (_, map) => {
    const regions = map.regionNames;
    const statements = statementsOf(formatRegionsScript({ map, database: 'movr', style: 'regional-by-row' }));

    it('sets the primary region, adds the others, then the survival goal', () => {
      expect(statements[0]).toBe(`ALTER DATABASE movr SET PRIMARY REGION "${regions[0]}"`);
      expect(statements.slice(1, regions.length)).toEqual(
        regions.slice(1).map((r) => `ALTER DATABASE movr ADD REGION IF NOT EXISTS "${r}"`),
      );
      expect(statements[regions.length]).toBe('ALTER DATABASE movr SURVIVE ZONE FAILURE');
    });

    it('gives every city-keyed table the computed crdb_region and REGIONAL BY ROW AS crdb_region', () => {
      const column = new RegExp(
        '^ALTER TABLE ([a-z_]+) ADD COLUMN IF NOT EXISTS crdb_region crdb_internal_region NOT VISIBLE NOT NULL AS \\(\\n' +
          '  CASE\\n' +
          map.regions.map((r) => `    WHEN city IN \\(${esc(cityList(r.cities.map((c) => c.name)))}\\) THEN '${r.region}'\\n`).join('') +
          `    ELSE '${regions[0]}'\\n` +
          '  END\\n' +
          '\\) STORED$',
      );
      for (const table of CITY_KEYED_TABLES) {
        const add = statements.findIndex((s) => column.exec(s)?.[1] === table);
        const locality = statements.indexOf(`ALTER TABLE ${table} SET LOCALITY REGIONAL BY ROW AS crdb_region`);
        expect(add, table).toBeGreaterThan(0);
        expect(locality, table).toBe(add + 1);
      }
    });

    it('makes promo_codes GLOBAL and nothing else', () => {
      expect(statements.filter((s) => /\bpromo_codes\b/.test(s) && !/\buser_promo_codes\b/.test(s))).toEqual([
        'ALTER TABLE promo_codes SET LOCALITY GLOBAL',
      ]);
    });

    it('uses only the statement forms of REFERENCE.md §5, once each per table', () => {
      const forms = [
        /^ALTER DATABASE movr SET PRIMARY REGION "[a-z][a-z0-9-]*"$/,
        /^ALTER DATABASE movr ADD REGION IF NOT EXISTS "[a-z][a-z0-9-]*"$/,
        /^ALTER DATABASE movr SURVIVE (ZONE|REGION) FAILURE$/,
        /^ALTER TABLE [a-z_]+ ADD COLUMN IF NOT EXISTS crdb_region crdb_internal_region NOT VISIBLE NOT NULL AS \(\n {2}CASE\n( {4}WHEN city IN \('[^\n]+'\) THEN '[a-z0-9-]+'\n)+ {4}ELSE '[a-z0-9-]+'\n {2}END\n\) STORED$/,
        /^ALTER TABLE [a-z_]+ SET LOCALITY (REGIONAL BY ROW AS crdb_region|GLOBAL)$/,
      ];
      for (const statement of statements) expect(forms.some((form) => form.test(statement)), statement).toBe(true);
      expect(new Set(statements).size).toBe(statements.length);
      expect(statements).toHaveLength(regions.length + 1 + GLOBAL_TABLES.length + 2 * CITY_KEYED_TABLES.length);
    });

    it('maps every city of the map to its own region in the CASE expression', () => {
      const statement = statements.find((s) => s.startsWith('ALTER TABLE rides ADD COLUMN'))!;
      const expression = statement.slice(statement.indexOf('(\n') + 2, statement.lastIndexOf('\n)'));
      for (const { region, cities } of map.regions) {
        for (const city of cities) expect(evaluateCase(expression, city.name), city.name).toBe(region);
      }
      // A city the map does not have goes to the primary region instead of failing NOT NULL.
      expect(evaluateCase(expression, 'atlantis')).toBe(regions[0]);
    });
  });

  describe.each([
    ['the default map', DEFAULT_REGION_MAP],
    ['a map with us-central1', CENTRAL_MAP],
  ])('partition-by-list, %s', (_, map) => {
    const regions = map.regionNames;
    const primary = regions[0]!;
    const statements = statementsOf(formatRegionsScript({ map, database: 'movr', style: 'partition-by-list' }));
    const partitions = map.regions
      .map((r) => `  PARTITION ${partitionName(r.region)} VALUES IN (${cityList(r.cities.map((c) => c.name))})`)
      .join(',\n');

    it('partitions the primary key of every city-keyed table by city, one partition per region', () => {
      for (const table of CITY_KEYED_TABLES) {
        expect(statements).toContain(`ALTER TABLE ${table} PARTITION BY LIST (city) (\n${partitions}\n)`);
      }
    });

    it('partitions every city-led index by its leading column (vehicle_city for the vehicle indexes)', () => {
      for (const { table, index, column } of CITY_LED_INDEXES) {
        expect(statements).toContain(`ALTER INDEX ${table}@${index} PARTITION BY LIST (${column}) (\n${partitions}\n)`);
      }
      expect(statements).toContain(
        `ALTER INDEX rides@rides_auto_index_fk_vehicle_city_ref_vehicles PARTITION BY LIST (vehicle_city) (\n${partitions}\n)`,
      );
    });

    it('pins every partition of every table to its own region', () => {
      const zones = statements.filter((s) => s.startsWith('ALTER PARTITION'));
      expect(zones).toHaveLength(CITY_KEYED_TABLES.length * regions.length);
      for (const zone of zones) {
        const match = /^ALTER PARTITION ([a-z_][a-z0-9_]*) OF INDEX ([a-z_]+)@\* CONFIGURE ZONE USING constraints = '\[\+region=([a-z0-9-]+)\]'$/.exec(zone);
        expect(match, zone).not.toBeNull();
        expect(match![1]).toBe(partitionName(match![3]!));
      }
      for (const table of CITY_KEYED_TABLES) {
        for (const region of regions) {
          expect(statements).toContain(
            `ALTER PARTITION ${partitionName(region)} OF INDEX ${table}@* CONFIGURE ZONE USING constraints = '[+region=${region}]'`,
          );
        }
      }
    });

    it('gives promo_codes a covering index per other region, each with its replica and leaseholder there', () => {
      const promo = statements.filter((s) => /\bpromo_codes\b/.test(s) && !/\buser_promo_codes\b/.test(s));
      const zone = (r: string) => `num_replicas = 3, constraints = '{"+region=${r}": 1}', lease_preferences = '[[+region=${r}]]'`;
      expect(promo).toEqual([
        `ALTER TABLE promo_codes CONFIGURE ZONE USING ${zone(primary)}`,
        ...regions.slice(1).flatMap((r) => [
          `CREATE INDEX IF NOT EXISTS promo_codes_idx_${partitionName(r)} ON promo_codes (code) STORING (description, creation_time, expiration_time, rules)`,
          `ALTER INDEX promo_codes@promo_codes_idx_${partitionName(r)} CONFIGURE ZONE USING ${zone(r)}`,
        ]),
      ]);
    });

    it('uses only the statement forms of REFERENCE.md §5 and valid partition names', () => {
      const forms = [
        /^ALTER TABLE [a-z_]+ PARTITION BY LIST \(city\) \(\n( {2}PARTITION [a-z_][a-z0-9_]* VALUES IN \('[^\n]+'\),?\n)+\)$/,
        /^ALTER INDEX [a-z_]+@[a-z_]+ PARTITION BY LIST \((city|vehicle_city)\) \(\n( {2}PARTITION [a-z_][a-z0-9_]* VALUES IN \('[^\n]+'\),?\n)+\)$/,
        /^ALTER PARTITION [a-z_][a-z0-9_]* OF INDEX [a-z_]+@\* CONFIGURE ZONE USING constraints = '\[\+region=[a-z0-9-]+\]'$/,
        /^ALTER TABLE promo_codes CONFIGURE ZONE USING num_replicas = 3, constraints = '\{"\+region=[a-z0-9-]+": 1\}', lease_preferences = '\[\[\+region=[a-z0-9-]+\]\]'$/,
        /^CREATE INDEX IF NOT EXISTS promo_codes_idx_[a-z0-9_]+ ON promo_codes \(code\) STORING \(description, creation_time, expiration_time, rules\)$/,
        /^ALTER INDEX promo_codes@promo_codes_idx_[a-z0-9_]+ CONFIGURE ZONE USING num_replicas = 3, constraints = '\{"\+region=[a-z0-9-]+": 1\}', lease_preferences = '\[\[\+region=[a-z0-9-]+\]\]'$/,
      ];
      for (const statement of statements) expect(forms.some((form) => form.test(statement)), statement).toBe(true);
      for (const region of regions) expect(partitionName(region)).toMatch(/^[a-z_][a-z0-9_]*$/);
      expect(new Set(statements).size).toBe(statements.length);
    });
  });

  it('quotes names and literals that need it', () => {
    const map = mapOf("us-east1=o'fallon,new york;us-west1=seattle");
    const script = formatRegionsScript({ map, database: 'my-movr', style: 'regional-by-row' });
    expect(script).toContain('ALTER DATABASE "my-movr" SET PRIMARY REGION "us-east1";');
    expect(script).toContain("WHEN city IN ('o''fallon', 'new york') THEN 'us-east1'");
    const expression = regionCaseExpression(map, 'us-east1');
    expect(evaluateCase(expression, "o'fallon")).toBe('us-east1');
    expect(quoteIdent('movr')).toBe('movr');
    expect(quoteIdent('select')).toBe('"select"');
    expect(quoteIdent('Movr')).toBe('"Movr"');
    expect(quoteIdent('a"b')).toBe('"a""b"');
    expect(formatRegionsScript({ map, database: 'm', style: 'partition-by-list' })).toContain(
      "PARTITION us_east1 VALUES IN ('o''fallon', 'new york')",
    );
  });

  it('refuses what CockroachDB would refuse: region survival with fewer than 3 regions, an unknown primary region', () => {
    const two = mapOf('us-east1=boston;us-west1=seattle');
    expect(() => regionsStatements({ map: two, database: 'movr', style: 'regional-by-row', survive: 'region' })).toThrow(
      'surviving a region failure needs at least 3 regions; the map has 2',
    );
    expect(() =>
      regionsStatements({ map: two, database: 'movr', style: 'regional-by-row', primaryRegion: 'europe-west1' }),
    ).toThrow('the primary region europe-west1 is not one of the map');
    const statements = regionsStatements({ map: two, database: 'movr', style: 'partition-by-list', primaryRegion: 'us-west1' });
    expect(statements.find((s) => s.kind === 'table-zone')?.sql).toContain("lease_preferences = '[[+region=us-west1]]'");
    expect(statements.filter((s) => s.kind === 'index').map((s) => s.index)).toEqual(['promo_codes_idx_us_east1']);
  });

  it('covers every table of the schema: city-keyed ones lead their primary key with city', () => {
    const tables = (Object.values(schema) as unknown[]).filter((value): value is PgTable => is(value, PgTable));
    const names = tables.map((table) => getTableConfig(table).name).sort();
    expect(names).toEqual([...CITY_KEYED_TABLES, ...GLOBAL_TABLES].sort());
    for (const table of tables) {
      const config = getTableConfig(table);
      const first = config.primaryKeys[0]?.columns[0]?.name ?? config.columns.find((c) => c.primary)?.name;
      expect(first, config.name).toBe((GLOBAL_TABLES as readonly string[]).includes(config.name) ? 'code' : 'city');
    }
  });
});

describeEachDatabase('geo-partitioning against a migrated database', (t) => {
  it('knows every city-led index of the migrated schema (a new one must be added to CITY_LED_INDEXES)', async () => {
    const rows = await t.db.execute(`
      SELECT t.relname AS table_name, i.relname AS index_name, a.attname AS first_column, x.indisprimary AS is_primary
      FROM pg_index x
      JOIN pg_class i ON i.oid = x.indexrelid
      JOIN pg_class t ON t.oid = x.indrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace
      JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0]
      WHERE n.nspname = 'public' AND t.relname <> 'movr_migrations'
      ORDER BY 1, 2`);
    const secondary = rows
      .filter((r) => !r.is_primary && (r.first_column === 'city' || r.first_column === 'vehicle_city'))
      .map((r) => ({ table: r.table_name, index: r.index_name, column: r.first_column }));
    expect(secondary).toEqual(
      expect.arrayContaining(CITY_LED_INDEXES.map((i) => ({ table: i.table, index: i.index, column: i.column }))),
    );
    expect(secondary).toHaveLength(CITY_LED_INDEXES.length);
    const primaries = rows.filter((r) => r.is_primary);
    for (const table of CITY_KEYED_TABLES) {
      expect(primaries.find((r) => r.table_name === table)?.first_column, table).toBe('city');
    }
    // Indexes that cannot be partitioned by city: they stay where the table's zone puts them.
    expect(rows.filter((r) => !r.is_primary && r.first_column !== 'city' && r.first_column !== 'vehicle_city').map((r) => r.index_name)).toEqual([
      'api_tokens_expires_at',
      'idempotency_keys_expires_at',
      'operator_actions_at',
      'sessions_expires_at',
      'user_credentials_username_key',
    ]);
  });

  it('evaluates the generated CASE expression to each city’s region on the real database', async () => {
    const expression = regionCaseExpression(CENTRAL_MAP, 'us-east1');
    const cities = [...CENTRAL_MAP.regions.flatMap((r) => r.cities.map((c) => c.name)), 'atlantis'];
    const rows = await t.db.execute(
      `SELECT city, (${expression}) AS region FROM unnest($1::varchar[]) AS t(city) ORDER BY city`,
      [cities],
    );
    const expected = new Map(CENTRAL_MAP.regions.flatMap((r) => r.cities.map((c) => [c.name, r.region] as const)));
    expected.set('atlantis', 'us-east1');
    expect(rows).toHaveLength(cities.length);
    for (const row of rows) expect(row.region, String(row.city)).toBe(expected.get(String(row.city)));
  });

  it('finds the cities of rows that the region map does not have', async () => {
    expect(await unmappedCities(t.db, DEFAULT_REGION_MAP)).toEqual([]);
    await t.db.execute(`INSERT INTO users (id, city, name) VALUES (gen_random_uuid(), 'atlantis', 'Nemo')`);
    try {
      expect(await unmappedCities(t.db, DEFAULT_REGION_MAP)).toEqual(['atlantis']);
      expect(await unmappedCities(t.db, mapOf('us-east1=atlantis'))).toEqual([]);
    } finally {
      await t.db.execute(`DELETE FROM users WHERE city = 'atlantis'`);
    }
  });

  it('refuses --apply with a clear message, touching nothing', async () => {
    const executed: string[] = [];
    const handle: Database = {
      ...t.db,
      execute: async (text, params) => {
        executed.push(text);
        return t.db.execute(text, params);
      },
      close: async () => {},
    };
    const { code, out, err } = await regionsCommand(['--apply'], { databaseUrl: t.url, open: async () => handle });
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(executed).toEqual([]);
    const kind = t.kind === 'postgres' ? 'PostgreSQL \\(postgres://' : 'the embedded database \\(PGlite, pglite:';
    expect(err.join('')).toMatch(new RegExp(`^movr: movr db regions --apply needs CockroachDB; this database is ${kind}.*\\)\\n$`));
    await expect(applyRegions(t.db, { map: DEFAULT_REGION_MAP, database: 'movr', style: 'regional-by-row' }, () => {})).rejects.toThrow(
      RegionsError,
    );
  });

  it('has nothing to check for an instance region off CockroachDB', async () => {
    expect(await checkInstanceRegion(t.db, 'us-east1')).toBeUndefined();
    expect(asOfSystemTime(t.db, true)).toBeUndefined();
  });

  describe('promo code listings with follower reads switched off', () => {
    const NOW = new Date('2025-06-01T12:00:00.000Z');

    beforeAll(async () => {
      await t.db.execute('DELETE FROM user_promo_codes');
      await t.db.execute('DELETE FROM promo_codes');
      for (const code of ['alpha', 'bravo', 'charlie', 'delta']) await insertPromoCode(t.db, code);
      await insertPromoCode(t.db, 'expired', { expirationTime: new Date('2021-01-01T00:00:00Z') });
    });

    it('are plain reads that work', async () => {
      const asOf = asOfSystemTime(t.db, false);
      expect(asOf).toBeUndefined();
      const page = await listActivePromoCodes(t.db.orm, { limit: 3, now: NOW, asOf });
      expect(page.items.map((p) => p.code)).toEqual(['alpha', 'bravo', 'charlie']);
      expect(page.nextCursor).toBe('charlie');
    });

    it('read the same rows through the follower-read query shape (FROM promo_codes <clause>)', async () => {
      // An empty clause in place of AS OF SYSTEM TIME: the same select list, FROM, WHERE and
      // ORDER BY that CockroachDB gets, run here.
      const plain = await listActivePromoCodes(t.db.orm, { limit: 3, now: NOW, cursor: 'alpha' });
      const shaped = await listActivePromoCodes(t.db.orm, { limit: 3, now: NOW, cursor: 'alpha', asOf: sql`` });
      expect(shaped).toEqual(plain);
      expect(shaped.items.map((p) => p.code)).toEqual(['bravo', 'charlie', 'delta']);
      expect(shaped.items[0]?.creationTime).toBeInstanceOf(Date);
      expect(shaped.items[0]?.percentOff).toBe(10);
    });
  });
});

describeEachDatabase(
  'the savepoint retry protocol through a domain operation',
  (t) => {
    it('is on for this database', () => {
      expect(t.db.transactionSettings.savepointProtocol).toBe(true);
    });

    it('starts and ends a ride; a serialization failure inside start_ride rolls back to the savepoint and runs it again', async () => {
      const rider = await createUser(t.db, { city: 'seattle', name: 'Sam Savepoint' });
      const vehicle = await addVehicle(t.db, rider, { type: 'scooter', color: 'red', location: 'Pike Place' }, TEST_CITIES);
      let attempts = 0;
      const before = t.db.transactionStats.get('start_ride');
      const ride = await startRide(t.db, rider, vehicle, {
        inTransaction: async (tx) => {
          attempts++;
          if (attempts === 1) {
            // A real 40001 raised by the database, after the ride row and the vehicle update.
            await tx.execute(
              sql.raw(`DO $$ BEGIN RAISE EXCEPTION 'restart transaction (test)' USING ERRCODE = '40001'; END $$`),
            );
          }
        },
      });
      expect(attempts).toBe(2);
      expect(t.db.transactionStats.get('start_ride')).toEqual({
        ...before,
        commits: before.commits + 1,
        retries: before.retries + 1,
        failures: before.failures,
      });
      const rides = await t.db.execute('SELECT id FROM rides WHERE city = $1 AND rider_id = $2', ['seattle', rider.id]);
      expect(rides).toEqual([{ id: ride.id }]);
      const [status] = await t.db.execute('SELECT status FROM vehicles WHERE city = $1 AND id = $2', ['seattle', vehicle.id]);
      expect(status?.status).toBe('in_use');
      const ended = await endRide(t.db, rider, ride, 'Space Needle', {
        priceList: DEFAULT_PRICE_LIST,
        now: new Date(ride.startTime!.getTime() + 10 * 60_000),
      });
      expect(ended.endTime).toBeInstanceOf(Date);
      expect(t.db.transactionStats.get('end_ride').commits).toBeGreaterThanOrEqual(1);
    });
  },
  { open: { savepointProtocol: true } },
);

// ---- a simulated CockroachDB -------------------------------------------------------------------

interface FakeState {
  version: string;
  clusterRegions: string[];
  regions: string[];
  primary?: string;
  survival?: string;
  columns: Map<string, string>;
  localities: Map<string, string>;
  cities: string[];
  pending: boolean;
  gateway: string;
  failWith?: { match: RegExp; message: string };
}

function fakeCockroach(overrides: Partial<FakeState> = {}) {
  const state: FakeState = {
    version: 'CockroachDB CCL v23.2.4 (x86_64-pc-linux-gnu, built 2024/04/10 00:00:00, go1.21.8 X:nocoverageredzone)',
    clusterRegions: ['europe-west1', 'us-east1', 'us-west1'],
    regions: [],
    columns: new Map(),
    localities: new Map(),
    cities: ['new york', 'paris'],
    pending: false,
    gateway: 'us-east1',
    ...overrides,
  };
  const ddl: string[] = [];
  const migrations = loadMigrations();
  const execute = async (text: string): Promise<Record<string, unknown>[]> => {
    const q = text.replace(/\s+/g, ' ').trim();
    if (q.startsWith('SELECT version()')) return [{ version: state.version }];
    if (q.startsWith('SELECT current_database()')) return [{ name: 'movr' }];
    if (q.startsWith('SELECT gateway_region()')) return [{ region: state.gateway }];
    if (q === 'SHOW REGIONS FROM CLUSTER') return state.clusterRegions.map((region) => ({ region, zones: ['a', 'b', 'c'] }));
    if (q === 'SHOW REGIONS FROM DATABASE movr') {
      return state.regions.map((region) => ({ database: 'movr', region, primary: region === state.primary, zones: [] }));
    }
    if (q === 'SHOW SURVIVAL GOAL FROM DATABASE movr') return [{ database: 'movr', survival_goal: state.survival ?? 'zone' }];
    if (q.startsWith('SELECT table_name, generation_expression FROM information_schema.columns')) {
      return [...state.columns].map(([table_name, generation_expression]) => ({ table_name, generation_expression }));
    }
    if (q.startsWith('SELECT name, locality FROM crdb_internal.tables')) {
      return [...CITY_KEYED_TABLES, ...GLOBAL_TABLES].map((name) => ({
        name,
        locality: state.localities.get(name) ?? 'REGIONAL BY TABLE IN PRIMARY REGION',
      }));
    }
    if (q.startsWith('CREATE TABLE IF NOT EXISTS movr_migrations')) return [];
    if (q.startsWith('SELECT migration, statement FROM movr_migrations')) {
      return (state.pending ? migrations.slice(0, 2) : migrations).map((m) => ({ migration: m.migration, statement: m.index }));
    }
    if (q.startsWith('SELECT DISTINCT city FROM')) return state.cities.map((city) => ({ city }));
    // DDL: record it and change the state as CockroachDB would.
    ddl.push(text);
    if (state.failWith?.match.test(q)) throw Object.assign(new Error(state.failWith.message), { code: '42710' });
    let m: RegExpExecArray | null;
    if ((m = /^ALTER DATABASE movr SET PRIMARY REGION "(.+)"$/.exec(q))) {
      if (!state.regions.includes(m[1]!)) state.regions.push(m[1]!);
      state.primary = m[1]!;
    } else if ((m = /^ALTER DATABASE movr ADD REGION IF NOT EXISTS "(.+)"$/.exec(q))) {
      if (!state.regions.includes(m[1]!)) state.regions.push(m[1]!);
    } else if ((m = /^ALTER DATABASE movr SURVIVE (ZONE|REGION) FAILURE$/.exec(q))) {
      state.survival = m[1]!.toLowerCase();
    } else if ((m = /^ALTER TABLE (\w+) ADD COLUMN IF NOT EXISTS crdb_region .* AS \((.*)\) STORED$/.exec(q))) {
      if (!state.columns.has(m[1]!)) state.columns.set(m[1]!, m[2]!);
    } else if ((m = /^ALTER TABLE (\w+) SET LOCALITY (REGIONAL BY ROW) AS crdb_region$/.exec(q))) {
      state.localities.set(m[1]!, m[2]!);
    } else if ((m = /^ALTER TABLE (\w+) SET LOCALITY GLOBAL$/.exec(q))) {
      state.localities.set(m[1]!, 'GLOBAL');
    }
    return [];
  };
  const db = {
    kind: 'cockroachdb',
    displayUrl: 'postgresql://root@localhost:26257/movr?sslmode=disable',
    execute,
    close: async () => {},
  } as unknown as Database;
  return { db, state, ddl };
}

describe('movr db regions --apply (on a simulated CockroachDB)', () => {
  const options: RegionsOptions = { map: DEFAULT_REGION_MAP, database: 'movr', style: 'regional-by-row' };

  it('runs every statement once, in order, and a second run finds everything done', async () => {
    const { db, state, ddl } = fakeCockroach();
    const lines: string[] = [];
    const first = await applyRegions(db, options, (line) => lines.push(line));
    const expected = regionsStatements(options).map((s) => s.sql);
    expect(ddl).toEqual(expected);
    expect(first).toEqual({ applied: expected.length, alreadyDone: 0 });
    expect(lines).toHaveLength(expected.length);
    expect(lines[0]).toMatch(/^\[1\/29\] ALTER DATABASE movr SET PRIMARY REGION "us-east1": done in \d+\.\d s$/);
    expect(lines[5]).toMatch(/^\[6\/29\] ALTER TABLE users ADD COLUMN IF NOT EXISTS crdb_region .*\.\.\.: done in/);
    expect(state).toMatchObject({ primary: 'us-east1', regions: ['us-east1', 'us-west1', 'europe-west1'], survival: 'zone' });
    expect(state.localities.get('users')).toBe('REGIONAL BY ROW');
    expect(state.localities.get('promo_codes')).toBe('GLOBAL');

    ddl.length = 0;
    lines.length = 0;
    const second = await applyRegions(db, options, (line) => lines.push(line));
    expect(ddl).toEqual([]);
    expect(second).toEqual({ applied: 0, alreadyDone: expected.length });
    expect(lines.every((line) => line.endsWith(': already done'))).toBe(true);
  });

  it('changes only what is missing: a survival goal, a region added to the map', async () => {
    const { db, ddl } = fakeCockroach({ clusterRegions: ['us-east1', 'us-west1', 'europe-west1', 'us-central1'] });
    await applyRegions(db, options, () => {});
    ddl.length = 0;
    await applyRegions(db, { ...options, survive: 'region' }, () => {});
    expect(ddl).toEqual(['ALTER DATABASE movr SURVIVE REGION FAILURE']);
  });

  it('reports a statement whose work is "already" done as such', async () => {
    const { db } = fakeCockroach({
      failWith: { match: /SET LOCALITY GLOBAL/, message: 'table "promo_codes" is already GLOBAL' },
    });
    const lines: string[] = [];
    const report = await applyRegions(db, options, (line) => lines.push(line));
    expect(report.alreadyDone).toBe(1);
    expect(lines).toContain('[5/29] ALTER TABLE promo_codes SET LOCALITY GLOBAL: already done (table "promo_codes" is already GLOBAL)');
  });

  it('stops at the first statement that fails, naming it', async () => {
    const { db, ddl } = fakeCockroach({ failWith: { match: /vehicles SET LOCALITY/, message: 'boom' } });
    await expect(applyRegions(db, options, () => {})).rejects.toThrow(
      '[9/29] ALTER TABLE vehicles SET LOCALITY REGIONAL BY ROW AS crdb_region failed: boom',
    );
    expect(ddl.at(-1)).toBe('ALTER TABLE vehicles SET LOCALITY REGIONAL BY ROW AS crdb_region');
  });

  it('refuses a region the cluster has no node in, before changing anything', async () => {
    const { db, ddl } = fakeCockroach();
    await expect(applyRegions(db, { ...options, map: CENTRAL_MAP }, () => {})).rejects.toThrow(
      'the cluster has no node in us-central1 (its regions: europe-west1, us-east1, us-west1)',
    );
    expect(ddl).toEqual([]);
  });

  it('refuses a crdb_region column computed from an older map, before changing anything', async () => {
    const { db, state, ddl } = fakeCockroach({ clusterRegions: ['us-east1', 'us-west1', 'europe-west1', 'us-central1'] });
    await applyRegions(db, options, () => {});
    ddl.length = 0;
    expect(state.columns.size).toBe(CITY_KEYED_TABLES.length);
    await expect(applyRegions(db, { ...options, map: CENTRAL_MAP }, () => {})).rejects.toThrow(
      'users.crdb_region already exists but does not map chicago, detroit, minneapolis; it cannot be changed in place',
    );
    expect(ddl).toEqual([]);
  });

  it('warns about rows of cities the map does not have', async () => {
    const { db } = fakeCockroach({ cities: ['new york', 'atlantis'] });
    const lines: string[] = [];
    await applyRegions(db, options, (line) => lines.push(line));
    expect(lines[0]).toBe(
      'warning: rows of cities the region map does not have (atlantis) will live in the primary region us-east1',
    );
  });

  it('refuses REGIONAL BY ROW before CockroachDB 21.1, and an unmigrated database', async () => {
    const old = fakeCockroach({ version: 'CockroachDB CCL v20.2.19 (x86_64-unknown-linux-gnu)' });
    await expect(applyRegions(old.db, options, () => {})).rejects.toThrow(
      'REGIONAL BY ROW needs CockroachDB 21.1 or later; this is v20.2: use --style partition-by-list',
    );
    const legacy = await applyRegions(old.db, { ...options, style: 'partition-by-list' }, () => {});
    expect(legacy.applied).toBe(regionsStatements({ ...options, style: 'partition-by-list' }).length);
    const unmigrated = fakeCockroach({ pending: true });
    await expect(applyRegions(unmigrated.db, options, () => {})).rejects.toThrow('run "movr db migrate" first');
    expect(unmigrated.ddl).toEqual([]);
  });

  it('runs the legacy style statement by statement too', async () => {
    const { db, ddl } = fakeCockroach();
    const legacy: RegionsOptions = { ...options, style: 'partition-by-list' };
    await applyRegions(db, legacy, () => {});
    expect(ddl).toEqual(regionsStatements(legacy).map((s) => s.sql));
  });

  it('reads CockroachDB versions', () => {
    expect(cockroachVersion('CockroachDB CCL v23.2.4 (x86_64-pc-linux-gnu, built 2024/04/10)')).toEqual([23, 2]);
    expect(cockroachVersion('CockroachDB OSS v19.2.12 (x86_64)')).toEqual([19, 2]);
    expect(cockroachVersion('PostgreSQL 15.4 on x86_64')).toBeUndefined();
  });
});

describe('the movr db regions command', () => {
  async function run(args: string[], regionMap: RegionMap = DEFAULT_REGION_MAP, db?: Database) {
    const result = await regionsCommand(args, { regionMap, ...(db ? { open: async () => db } : {}) });
    return { ...result, out: result.out.join(''), err: result.err.join('') };
  }

  it('--print writes the REGIONAL BY ROW script without connecting', async () => {
    const result = await run(['--print']);
    expect(result).toMatchObject({ code: 0, err: '', opened: 0 });
    expect(result.out).toBe(readFileSync(new URL('regional-by-row.sql', GOLDEN_DIR), 'utf8'));
  });

  it('--print --style partition-by-list writes the legacy script; --database and --survive are applied', async () => {
    expect((await run(['--print', '--style', 'partition-by-list'])).out).toBe(
      readFileSync(new URL('partition-by-list.sql', GOLDEN_DIR), 'utf8'),
    );
    const custom = await run(['--print', '--database', 'movr_eu', '--survive', 'region'], CENTRAL_MAP);
    expect(custom.code).toBe(0);
    expect(custom.out).toContain('ALTER DATABASE movr_eu SET PRIMARY REGION "us-east1";');
    expect(custom.out).toContain('ALTER DATABASE movr_eu ADD REGION IF NOT EXISTS "us-central1";');
    expect(custom.out).toContain('ALTER DATABASE movr_eu SURVIVE REGION FAILURE;');
    const primary = await run(['--print', '--primary-region', 'europe-west1']);
    expect(primary.out).toContain('ALTER DATABASE movr SET PRIMARY REGION "europe-west1";');
    expect(primary.out).toContain('ALTER DATABASE movr ADD REGION IF NOT EXISTS "us-east1";');
    expect(primary.out).toContain("    ELSE 'europe-west1'\n");
  });

  it.each([
    [[], 'movr db regions needs --print or --apply (one of them)'],
    [['--print', '--apply'], 'movr db regions needs --print or --apply (one of them)'],
    [['--print', '--style', 'geo'], '--style must be regional-by-row or partition-by-list, got "geo"'],
    [['--print', '--survive', 'zones'], '--survive must be zone or region, got "zones"'],
    [['--print', '--style', 'partition-by-list', '--survive', 'region'], '--survive applies to --style regional-by-row only'],
    [['--print', '--primary-region', 'mars1'], 'the primary region mars1 is not one of the map'],
    [['--print', '--db', 'postgres://x/y'], '--db applies to --apply only'],
    [['--print', '--database', ' '], '--database must not be empty'],
    [['--print', '--bogus'], "Unknown option '--bogus'"],
  ])('%j is a usage error (exit code 2)', async (args, message) => {
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.err).toContain(`movr: ${message}`);
    expect(result.err).toContain('Run "movr help" for usage.');
    expect(result.out).toBe('');
  });

  it('refuses surviving a region failure with two regions', async () => {
    const result = await run(['--print', '--survive', 'region'], mapOf('us-east1=boston;us-west1=seattle'));
    expect(result.code).toBe(2);
    expect(result.err).toContain('surviving a region failure needs at least 3 regions');
  });

  it('--help prints the options', async () => {
    const result = await run(['--help']);
    expect(result.code).toBe(0);
    expect(result.out).toContain('--style <style>');
  });

  it('--apply on CockroachDB reports each statement and a summary; --database must match the connection', async () => {
    const { db } = fakeCockroach();
    const result = await run(['--apply'], DEFAULT_REGION_MAP, db);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(
      /^Geo-partitioning movr at postgresql:\/\/root@localhost:26257\/movr\?sslmode=disable \(regional-by-row, survive zone failure\)\n/,
    );
    expect(result.out).toContain('[29/29] ALTER TABLE operator_actions SET LOCALITY REGIONAL BY ROW AS crdb_region: done in');
    expect(result.out).toMatch(/Done: 29 statements applied, 0 already done\.\n$/);
    const again = await run(['--apply'], DEFAULT_REGION_MAP, db);
    expect(again.out).toMatch(/Done: 0 statements applied, 29 already done\.\n$/);
    const other = await run(['--apply', '--database', 'other'], DEFAULT_REGION_MAP, db);
    expect(other.code).toBe(2);
    expect(other.err).toContain('--database other is not the database of the connection (movr)');
  });

  it('--apply failures exit 1 with the reason', async () => {
    const { db } = fakeCockroach({ clusterRegions: ['us-east1'] });
    const result = await run(['--apply'], DEFAULT_REGION_MAP, db);
    expect(result.code).toBe(1);
    expect(result.err).toBe(
      'movr: the cluster has no node in us-west1, europe-west1 (its regions: us-east1); start nodes with --locality=region=<region>,zone=<zone>, or change MOVR_REGIONS\n',
    );
  });
});

describe('checkInstanceRegion (on a simulated CockroachDB)', () => {
  it('is silent without MOVR_REGION, and when the database has the region and the node is in it', async () => {
    const { db } = fakeCockroach({ regions: ['us-east1', 'us-west1'], gateway: 'us-west1' });
    expect(await checkInstanceRegion(db, undefined)).toBeUndefined();
    expect(await checkInstanceRegion(db, 'us-west1')).toBeUndefined();
  });

  it('warns when the database has no regions, lacks this one, or the node is elsewhere', async () => {
    expect(await checkInstanceRegion(fakeCockroach().db, 'us-east1')).toBe(
      'MOVR_REGION is us-east1, but the database movr has no regions: its rows are not kept near their cities (run "movr db regions --apply")',
    );
    expect(await checkInstanceRegion(fakeCockroach({ regions: ['us-east1', 'us-west1'] }).db, 'us-central1')).toBe(
      'MOVR_REGION is us-central1, but the database movr has only the regions us-east1, us-west1: the cities of us-central1 are served from other regions (add it with "movr db regions --apply")',
    );
    expect(await checkInstanceRegion(fakeCockroach({ regions: ['us-east1', 'us-west1'] }).db, 'us-west1')).toBe(
      'MOVR_REGION is us-west1, but DATABASE_URL points at a node in us-east1: every query crosses regions; point it at a node in us-west1',
    );
  });

  it('says so when it cannot check', async () => {
    const db = {
      kind: 'cockroachdb',
      execute: async () => {
        throw new Error('syntax error at or near "regions"');
      },
    } as unknown as Database;
    expect(await checkInstanceRegion(db, 'us-east1')).toBe(
      'could not check MOVR_REGION us-east1 against the database: syntax error at or near "regions"',
    );
  });
});

describe('asOfSystemTime', () => {
  const render = (fragment: SQL) => new PgDialect().sqlToQuery(fragment).sql;

  it('is the follower-read clause on CockroachDB when switched on, and nothing otherwise', () => {
    expect(render(asOfSystemTime({ kind: 'cockroachdb' }, true)!)).toBe('AS OF SYSTEM TIME follower_read_timestamp()');
    expect(asOfSystemTime({ kind: 'cockroachdb' }, false)).toBeUndefined();
    expect(asOfSystemTime({ kind: 'postgres' }, true)).toBeUndefined();
    expect(asOfSystemTime({ kind: 'pglite' }, true)).toBeUndefined();
  });
});

