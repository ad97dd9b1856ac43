// Geo-partitioning a MovR database on CockroachDB: `movr db regions`.
//
// Two styles, both generated from the region map (src/movr/cities.ts):
// - regional-by-row (CockroachDB 21.1 and later, the default): the database gets its regions
//   and a survival goal; every city-keyed table gets a stored computed column crdb_region that
//   maps its city to the city's region and becomes REGIONAL BY ROW AS crdb_region, so a row
//   lives in its city's region whichever gateway inserted it; promo_codes becomes GLOBAL.
// - partition-by-list (the 19.2 era of the Flask tutorial): every city-led primary key and
//   index is partitioned by city into one partition per region, each pinned to its region by
//   a zone constraint; promo_codes gets one covering index per other region with its leaseholder
//   there (the duplicate-indexes pattern).
//
// `--print` needs no database. `--apply` runs the statements one at a time, outside
// transactions (CockroachDB runs schema changes as jobs), and is safe to run again: it checks
// the current state first (SHOW REGIONS, SHOW SURVIVAL GOAL, information_schema.columns,
// crdb_internal.tables), uses IF NOT EXISTS where CockroachDB has it, and reports a statement
// that fails because its work is "already" done as already done.
import { parseArgs } from 'node:util';
import type { RegionMap, RegionName } from '../region-map.ts';
import type { Database } from './connect.ts';
import { pendingMigrations } from './migrate.ts';
import { CITY_KEYED_TABLES, CITY_LED_INDEXES, GLOBAL_TABLES } from './schema.ts';

export type RegionsStyle = 'regional-by-row' | 'partition-by-list';
export const REGIONS_STYLES: readonly RegionsStyle[] = ['regional-by-row', 'partition-by-list'];
export type SurvivalGoal = 'zone' | 'region';

/** The promo_codes columns a covering per-region index stores besides the code. */
const PROMO_CODE_STORED_COLUMNS = ['description', 'creation_time', 'expiration_time', 'rules'];

export interface RegionsOptions {
  readonly map: RegionMap;
  /** The database to alter (ALTER DATABASE); tables are named without it. */
  readonly database: string;
  readonly style: RegionsStyle;
  /** regional-by-row only: SURVIVE ZONE FAILURE (default) or SURVIVE REGION FAILURE. */
  readonly survive?: SurvivalGoal;
  /** Default: the map's first region. */
  readonly primaryRegion?: RegionName;
}

export type StatementKind =
  | 'primary-region'
  | 'add-region'
  | 'survival-goal'
  | 'region-column'
  | 'locality'
  | 'partition'
  | 'partition-zone'
  | 'index'
  | 'index-zone'
  | 'table-zone';

export interface DdlStatement {
  readonly kind: StatementKind;
  /** The statement, without a trailing semicolon. */
  readonly sql: string;
  readonly table?: string;
  readonly index?: string;
  readonly region?: RegionName;
}

export class RegionsError extends Error {
  override name = 'RegionsError';
}

// ---- quoting -----------------------------------------------------------------------------

/** Words that cannot be used as unquoted names (a conservative subset of SQL's reserved words). */
const RESERVED = new Set(
  `all analyse analyze and any array as asc asymmetric both case cast check collate column concurrently constraint
  create current_catalog current_date current_role current_schema current_time current_timestamp current_user
  database default deferrable desc distinct do else end except false fetch for foreign from grant group having in
  index initially intersect into lateral leading limit localtime localtimestamp not nothing null offset on only or
  order placing primary references returning select session_user some symmetric table then to trailing true union
  unique user using variadic when where window with`.split(/\s+/),
);

/** A name as an SQL identifier: bare when it is a plain lowercase word, double-quoted otherwise. */
export function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) && !RESERVED.has(name) ? name : `"${name.replaceAll('"', '""')}"`;
}

/** A string literal. */
export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** The partition (and index suffix) name of a region: us-east1 → us_east1. */
export function partitionName(region: RegionName): string {
  return region.replaceAll('-', '_');
}

// ---- the statements ------------------------------------------------------------------------

function primaryRegionOf(options: RegionsOptions): RegionName {
  const regions = options.map.regionNames;
  const primary = options.primaryRegion ?? regions[0];
  if (primary === undefined) throw new RegionsError('the region map has no regions');
  if (!regions.includes(primary)) {
    throw new RegionsError(`the primary region ${primary} is not one of the map's regions (${regions.join(', ')})`);
  }
  return primary;
}

/**
 * The CASE expression that maps a city to its region. Cities the map does not know (rows
 * written before a city was added) go to the primary region, as in `cockroach workload init
 * movr --multi-region`, rather than failing the NOT NULL column.
 */
export function regionCaseExpression(map: RegionMap, primaryRegion: RegionName, column = 'city'): string {
  const whens = map.regions.map(
    ({ region, cities }) =>
      `    WHEN ${column} IN (${cities.map((c) => quoteLiteral(c.name)).join(', ')}) THEN ${quoteLiteral(region)}`,
  );
  return ['  CASE', ...whens, `    ELSE ${quoteLiteral(primaryRegion)}`, '  END'].join('\n');
}

function partitionList(map: RegionMap, column: string): string {
  const partitions = map.regions.map(
    ({ region, cities }) =>
      `  PARTITION ${partitionName(region)} VALUES IN (${cities.map((c) => quoteLiteral(c.name)).join(', ')})`,
  );
  return `PARTITION BY LIST (${column}) (\n${partitions.join(',\n')}\n)`;
}

/** CockroachDB 21.1+: database regions, a survival goal, REGIONAL BY ROW tables, a GLOBAL table. */
export function regionalByRowStatements(options: RegionsOptions): DdlStatement[] {
  const { map } = options;
  const db = quoteIdent(options.database);
  const primary = primaryRegionOf(options);
  const survive = options.survive ?? 'zone';
  if (survive === 'region' && map.regions.length < 3) {
    throw new RegionsError(`surviving a region failure needs at least 3 regions; the map has ${map.regions.length}`);
  }
  const statements: DdlStatement[] = [
    { kind: 'primary-region', region: primary, sql: `ALTER DATABASE ${db} SET PRIMARY REGION ${quoteIdent(primary)}` },
  ];
  for (const region of map.regionNames) {
    if (region === primary) continue;
    statements.push({ kind: 'add-region', region, sql: `ALTER DATABASE ${db} ADD REGION IF NOT EXISTS ${quoteIdent(region)}` });
  }
  statements.push({
    kind: 'survival-goal',
    sql: `ALTER DATABASE ${db} SURVIVE ${survive === 'region' ? 'REGION' : 'ZONE'} FAILURE`,
  });
  for (const table of GLOBAL_TABLES) {
    statements.push({ kind: 'locality', table, sql: `ALTER TABLE ${table} SET LOCALITY GLOBAL` });
  }
  const expression = regionCaseExpression(map, primary);
  for (const table of CITY_KEYED_TABLES) {
    statements.push(
      {
        kind: 'region-column',
        table,
        sql:
          `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS crdb_region crdb_internal_region NOT VISIBLE NOT NULL AS (\n` +
          `${expression}\n) STORED`,
      },
      { kind: 'locality', table, sql: `ALTER TABLE ${table} SET LOCALITY REGIONAL BY ROW AS crdb_region` },
    );
  }
  return statements;
}

/** Before 21.1 (the tutorial's 19.2): partitions by city with zone constraints, duplicate promo code indexes. */
export function partitionByListStatements(options: RegionsOptions): DdlStatement[] {
  const { map } = options;
  const primary = primaryRegionOf(options);
  const statements: DdlStatement[] = [];
  for (const table of CITY_KEYED_TABLES) {
    statements.push({ kind: 'partition', table, sql: `ALTER TABLE ${table} ${partitionList(map, 'city')}` });
    for (const { index, column } of CITY_LED_INDEXES.filter((i) => i.table === table)) {
      statements.push({ kind: 'partition', table, index, sql: `ALTER INDEX ${table}@${index} ${partitionList(map, column)}` });
    }
    // table@* reaches the partition of that name in every index of the table.
    for (const region of map.regionNames) {
      statements.push({
        kind: 'partition-zone',
        table,
        region,
        sql:
          `ALTER PARTITION ${partitionName(region)} OF INDEX ${table}@* ` +
          `CONFIGURE ZONE USING constraints = ${quoteLiteral(`[+region=${region}]`)}`,
      });
    }
  }
  const columns = PROMO_CODE_STORED_COLUMNS.join(', ');
  const zone = (region: RegionName) =>
    `num_replicas = 3, constraints = ${quoteLiteral(`{"+region=${region}": 1}`)}, ` +
    `lease_preferences = ${quoteLiteral(`[[+region=${region}]]`)}`;
  statements.push({ kind: 'table-zone', table: 'promo_codes', region: primary, sql: `ALTER TABLE promo_codes CONFIGURE ZONE USING ${zone(primary)}` });
  for (const region of map.regionNames) {
    if (region === primary) continue;
    const index = `promo_codes_idx_${partitionName(region)}`;
    statements.push(
      {
        kind: 'index',
        table: 'promo_codes',
        index,
        region,
        sql: `CREATE INDEX IF NOT EXISTS ${index} ON promo_codes (code) STORING (${columns})`,
      },
      { kind: 'index-zone', table: 'promo_codes', index, region, sql: `ALTER INDEX promo_codes@${index} CONFIGURE ZONE USING ${zone(region)}` },
    );
  }
  return statements;
}

export function regionsStatements(options: RegionsOptions): DdlStatement[] {
  return options.style === 'partition-by-list' ? partitionByListStatements(options) : regionalByRowStatements(options);
}

/** The statements as an SQL script, with a header that says what it does and for which map. */
export function formatRegionsScript(options: RegionsOptions): string {
  const statements = regionsStatements(options);
  const primary = primaryRegionOf(options);
  const header =
    options.style === 'partition-by-list'
      ? [
          `-- Geo-partitions the MovR database ${options.database} the CockroachDB 19.2 way: every city-led primary`,
          '-- key and index is partitioned by city, one partition per region, each kept in its region by a',
          '-- zone constraint; promo_codes gets a covering index per other region with its leaseholder',
          '-- there. Partitioning needs an Enterprise license.',
        ]
      : [
          `-- Geo-partitions the MovR database ${options.database} (CockroachDB 21.1 or later): the database gets its`,
          `-- regions and SURVIVE ${(options.survive ?? 'zone').toUpperCase()} FAILURE; every city-keyed table becomes REGIONAL BY ROW on a`,
          "-- crdb_region column computed from its city, so that each row lives in its city's region",
          '-- whichever region inserted it; promo_codes becomes GLOBAL.',
        ];
  const regions = options.map.regions.map(
    ({ region, cities }) =>
      `--   ${region}${region === primary ? ' (primary)' : ''}: ${cities.map((c) => c.name).join(', ')}`,
  );
  const lines = [
    ...header,
    '-- Generated by `movr db regions --print`: run it connected to that database, one statement at a',
    '-- time, outside transactions. `movr db regions --apply` does that and skips what is already done.',
    '-- Regions and their cities:',
    ...regions,
    '',
  ];
  let previousGroup = '';
  for (const statement of statements) {
    const group = statement.table ?? 'database';
    if (previousGroup !== '' && group !== previousGroup) lines.push('');
    previousGroup = group;
    lines.push(`${statement.sql};`);
  }
  return `${lines.join('\n')}\n`;
}

// ---- applying ------------------------------------------------------------------------------

export interface ApplyReport {
  readonly applied: number;
  readonly alreadyDone: number;
}

type Say = (line: string) => void;

/** The statement on one line, shortened for the progress report. */
function summarize(sqlText: string): string {
  const line = sqlText.replace(/\s+/g, ' ').replace(/\( /g, '(').replace(/ \)/g, ')');
  return line.length > 110 ? `${line.slice(0, 107)}...` : line;
}

function isAlreadyError(error: unknown): boolean {
  return /\balready\b/i.test((error as Error)?.message ?? '');
}

/** CockroachDB's version from `SELECT version()`, e.g. [23, 2]; undefined if not recognised. */
export function cockroachVersion(versionText: string): [number, number] | undefined {
  const match = /CockroachDB \S* ?v(\d+)\.(\d+)/.exec(versionText);
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

interface ColumnState {
  table: string;
  generation: string;
}

/** What the database has already: regions, survival goal, crdb_region columns, table localities. */
async function readState(db: Database, database: string) {
  const regionRows = await db.execute(`SHOW REGIONS FROM DATABASE ${quoteIdent(database)}`);
  const regions = regionRows.map((r) => String(r.region));
  const primary = regionRows.find((r) => r.primary === true || r.primary === 't')?.region as string | undefined;
  let survival: string | undefined;
  if (regions.length > 0) {
    const rows = await db.execute(`SHOW SURVIVAL GOAL FROM DATABASE ${quoteIdent(database)}`);
    survival = rows[0]?.survival_goal === undefined ? undefined : String(rows[0].survival_goal);
  }
  const columns = (
    await db.execute(
      `SELECT table_name, generation_expression FROM information_schema.columns
       WHERE table_catalog = $1 AND table_schema = 'public' AND column_name = 'crdb_region'`,
      [database],
    )
  ).map((r): ColumnState => ({ table: String(r.table_name), generation: String(r.generation_expression ?? '') }));
  const localities = new Map(
    (
      await db.execute(
        `SELECT name, locality FROM crdb_internal.tables WHERE database_name = $1 AND schema_name = 'public'`,
        [database],
      )
    ).map((r) => [String(r.name), r.locality === null || r.locality === undefined ? '' : String(r.locality)]),
  );
  return { regions, primary, survival, columns, localities };
}

/** Cities in the database's rows that the map does not have (checked on the tables that exist). */
export async function unmappedCities(db: Database, map: RegionMap): Promise<string[]> {
  const known = new Set(map.cities.map((c) => c.name));
  const found = new Set<string>();
  for (const table of CITY_KEYED_TABLES) {
    try {
      for (const row of await db.execute(`SELECT DISTINCT city FROM ${table}`)) {
        const city = String(row.city);
        if (!known.has(city)) found.add(city);
      }
    } catch {
      // A table that does not exist yet has no cities.
    }
  }
  return [...found].sort();
}

/** The kind of database, for refusals: "PostgreSQL (postgres://…)". */
function describeDatabase(db: Database): string {
  if (db.kind === 'pglite') return `the embedded database (PGlite, ${db.displayUrl})`;
  if (db.kind === 'postgres') return `PostgreSQL (${db.displayUrl})`;
  return `CockroachDB (${db.displayUrl})`;
}

/**
 * Runs the statements on a CockroachDB database, one at a time, skipping those whose work is
 * done. Throws RegionsError for a database it cannot or must not change.
 */
export async function applyRegions(db: Database, options: RegionsOptions, say: Say): Promise<ApplyReport> {
  if (db.kind !== 'cockroachdb') {
    throw new RegionsError(`movr db regions --apply needs CockroachDB; this database is ${describeDatabase(db)}`);
  }
  const statements = regionsStatements(options);
  const versionText = String((await db.execute('SELECT version() AS version'))[0]?.version ?? '');
  const version = cockroachVersion(versionText);
  const multiRegion = version === undefined || version[0] > 21 || (version[0] === 21 && version[1] >= 1);
  if (options.style === 'regional-by-row' && !multiRegion) {
    throw new RegionsError(
      `REGIONAL BY ROW needs CockroachDB 21.1 or later; this is v${version?.join('.')}: use --style partition-by-list`,
    );
  }

  if (multiRegion) {
    // Every region must exist in the cluster: nodes started with --locality=region=<name>.
    let clusterRegions: string[] | undefined;
    try {
      clusterRegions = (await db.execute('SHOW REGIONS FROM CLUSTER')).map((r) => String(r.region));
    } catch {
      clusterRegions = undefined;
    }
    const missing = clusterRegions ? options.map.regionNames.filter((r) => !clusterRegions.includes(r)) : [];
    if (missing.length > 0) {
      throw new RegionsError(
        `the cluster has no node in ${missing.join(', ')} (its regions: ${clusterRegions?.join(', ') || 'none'}); ` +
          'start nodes with --locality=region=<region>,zone=<zone>, or change MOVR_REGIONS',
      );
    }
  }

  const pending = await pendingMigrations(db);
  if (pending.length > 0) {
    throw new RegionsError(
      `the database has ${pending.length} pending migration statements: run "movr db migrate" first, so that every table exists`,
    );
  }

  const unmapped = await unmappedCities(db, options.map);
  if (unmapped.length > 0) {
    say(
      `warning: rows of cities the region map does not have (${unmapped.join(', ')}) ` +
        (options.style === 'regional-by-row'
          ? `will live in the primary region ${primaryRegionOf(options)}`
          : 'fall in no partition and are not kept in any region'),
    );
  }

  const state = options.style === 'regional-by-row' ? await readState(db, options.database) : undefined;
  if (state) {
    // A crdb_region column from an earlier map (or from the workload, homed by gateway) is not
    // replaced by ADD COLUMN IF NOT EXISTS: say so instead of pretending it is right.
    const cities = options.map.cities.map((c) => c.name);
    for (const column of state.columns) {
      if (!CITY_KEYED_TABLES.includes(column.table)) continue;
      const missing = cities.filter((city) => !column.generation.includes(quoteLiteral(city)));
      if (column.generation === '' || missing.length > 0) {
        throw new RegionsError(
          `${column.table}.crdb_region already exists but ${
            column.generation === '' ? 'is not computed from city' : `does not map ${missing.join(', ')}`
          }; it cannot be changed in place: see "Changing the region map" in docs/deploy-cockroachdb.md`,
        );
      }
    }
  }

  const done = (statement: DdlStatement): boolean => {
    if (!state) return false;
    switch (statement.kind) {
      case 'primary-region':
        return state.primary === statement.region;
      case 'add-region':
        return statement.region !== undefined && state.regions.includes(statement.region);
      case 'survival-goal':
        return state.survival !== undefined && statement.sql.endsWith(`SURVIVE ${state.survival.toUpperCase()} FAILURE`);
      case 'region-column':
        return state.columns.some((c) => c.table === statement.table);
      case 'locality': {
        const locality = state.localities.get(statement.table ?? '') ?? '';
        // crdb_region is REGIONAL BY ROW's default column name, so CockroachDB may show either form.
        return statement.sql.endsWith('GLOBAL')
          ? locality === 'GLOBAL'
          : /^REGIONAL BY ROW( AS "?crdb_region"?)?$/.test(locality);
      }
      default:
        return false;
    }
  };

  let applied = 0;
  let alreadyDone = 0;
  for (const [i, statement] of statements.entries()) {
    const label = `[${i + 1}/${statements.length}] ${summarize(statement.sql)}`;
    if (done(statement)) {
      alreadyDone++;
      say(`${label}: already done`);
      continue;
    }
    const started = performance.now();
    try {
      await db.execute(statement.sql);
    } catch (error) {
      if (isAlreadyError(error)) {
        alreadyDone++;
        say(`${label}: already done (${(error as Error).message})`);
        continue;
      }
      throw new RegionsError(`${label} failed: ${(error as Error).message}`, { cause: error });
    }
    applied++;
    say(`${label}: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  return { applied, alreadyDone };
}

// ---- the command -----------------------------------------------------------------------------

export const REGIONS_USAGE = `db regions options (CockroachDB geo-partitioning; see docs/deploy-cockroachdb.md):
  --print                Write the SQL that geo-partitions a MovR database (no database needed)
  --apply                Run it on the database, one statement at a time (safe to run again)
  --style <style>        regional-by-row (default; CockroachDB 21.1+) or partition-by-list (19.2 style)
  --survive <goal>       zone (default) or region: what the database survives (regional-by-row)
  --primary-region <r>   Default: the first region of the region map
  --database <name>      Database to alter (default: movr with --print, the connected one with --apply)
  --db <url>             Database to apply to (default: DATABASE_URL)`;

export interface RegionsCommandDeps {
  readonly config: { readonly regionMap: RegionMap; readonly databaseUrl: string };
  readonly open: (url: string) => Promise<Database>;
  readonly stdout?: (text: string) => void;
  readonly stderr?: (text: string) => void;
}

/**
 * `movr db regions`: returns the exit code (0 done, 1 failed or refused, 2 wrong usage) after
 * writing the script, the progress or the problem.
 */
export async function regionsCommand(args: string[], deps: RegionsCommandDeps): Promise<number> {
  const stdout = deps.stdout ?? ((text: string) => void process.stdout.write(text));
  const stderr = deps.stderr ?? ((text: string) => void process.stderr.write(text));
  const usage = (message: string) => {
    stderr(`movr: ${message}\nRun "movr help" for usage.\n`);
    return 2;
  };
  let flags;
  try {
    flags = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        print: { type: 'boolean', default: false },
        apply: { type: 'boolean', default: false },
        style: { type: 'string', default: 'regional-by-row' },
        survive: { type: 'string', default: 'zone' },
        'primary-region': { type: 'string' },
        database: { type: 'string' },
        db: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (error) {
    return usage((error as Error).message);
  }
  if (flags.help) {
    stdout(`Usage: movr db regions --print | --apply [options]\n\n${REGIONS_USAGE}\n`);
    return 0;
  }
  if (flags.print === flags.apply) return usage('movr db regions needs --print or --apply (one of them)');
  if (!(REGIONS_STYLES as readonly string[]).includes(flags.style)) {
    return usage(`--style must be ${REGIONS_STYLES.join(' or ')}, got "${flags.style}"`);
  }
  if (flags.survive !== 'zone' && flags.survive !== 'region') {
    return usage(`--survive must be zone or region, got "${flags.survive}"`);
  }
  if (flags.style === 'partition-by-list' && args.some((a) => a === '--survive' || a.startsWith('--survive='))) {
    return usage('--survive applies to --style regional-by-row only');
  }
  if (flags.database !== undefined && flags.database.trim() === '') return usage('--database must not be empty');
  if (flags.print && flags.db !== undefined) return usage('--db applies to --apply only (--print connects to nothing)');
  const options = (database: string): RegionsOptions => ({
    map: deps.config.regionMap,
    database,
    style: flags.style as RegionsStyle,
    survive: flags.survive as SurvivalGoal,
    ...(flags['primary-region'] === undefined ? {} : { primaryRegion: flags['primary-region'] }),
  });

  if (flags.print) {
    try {
      stdout(formatRegionsScript(options(flags.database ?? 'movr')));
      return 0;
    } catch (error) {
      if (error instanceof RegionsError) return usage(error.message);
      throw error;
    }
  }

  const db = await deps.open(flags.db ?? deps.config.databaseUrl);
  try {
    if (db.kind !== 'cockroachdb') {
      stderr(`movr: movr db regions --apply needs CockroachDB; this database is ${describeDatabase(db)}\n`);
      return 1;
    }
    const current = String((await db.execute('SELECT current_database() AS name'))[0]?.name ?? '');
    if (flags.database !== undefined && flags.database !== current) {
      return usage(
        `--database ${flags.database} is not the database of the connection (${current}): put it in the URL (--db .../${flags.database})`,
      );
    }
    const chosen = options(current);
    try {
      regionsStatements(chosen);
    } catch (error) {
      if (error instanceof RegionsError) return usage(error.message);
      throw error;
    }
    stdout(`Geo-partitioning ${current} at ${db.displayUrl} (${chosen.style}${chosen.style === 'regional-by-row' ? `, survive ${chosen.survive} failure` : ''})\n`);
    const report = await applyRegions(db, chosen, (line) => stdout(`${line}\n`));
    stdout(`Done: ${report.applied} statements applied, ${report.alreadyDone} already done.\n`);
    return 0;
  } catch (error) {
    if (error instanceof RegionsError) {
      stderr(`movr: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    await db.close();
  }
}

// ---- region-aware instances ------------------------------------------------------------------

/**
 * On CockroachDB, whether the database has the instance's region (MOVR_REGION) and the
 * connection's node is in it. A warning to log, or undefined when all is well (or when there is
 * nothing to check: no MOVR_REGION, not CockroachDB).
 */
export async function checkInstanceRegion(db: Database, region: RegionName | undefined): Promise<string | undefined> {
  if (region === undefined || db.kind !== 'cockroachdb') return undefined;
  try {
    const database = String((await db.execute('SELECT current_database() AS name'))[0]?.name ?? '');
    const regions = (await db.execute(`SHOW REGIONS FROM DATABASE ${quoteIdent(database)}`)).map((r) => String(r.region));
    if (regions.length === 0) {
      return (
        `MOVR_REGION is ${region}, but the database ${database} has no regions: its rows are not kept near ` +
        'their cities (run "movr db regions --apply")'
      );
    }
    if (!regions.includes(region)) {
      return (
        `MOVR_REGION is ${region}, but the database ${database} has only the regions ${regions.join(', ')}: ` +
        `the cities of ${region} are served from other regions (add it with "movr db regions --apply")`
      );
    }
    const gateway = (await db.execute('SELECT gateway_region() AS region'))[0]?.region;
    if (typeof gateway === 'string' && gateway !== region) {
      return (
        `MOVR_REGION is ${region}, but DATABASE_URL points at a node in ${gateway}: every query crosses ` +
        `regions; point it at a node in ${region}`
      );
    }
    return undefined;
  } catch (error) {
    return `could not check MOVR_REGION ${region} against the database: ${(error as Error).message}`;
  }
}
