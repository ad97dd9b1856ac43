// Applying the geo-partitioning SQL of src/db/regions.ts to a CockroachDB database:
// `movr db regions --apply`.
//
// The statements run one at a time, outside transactions (CockroachDB runs schema changes as
// jobs), and a second run is safe: the current state is read first (SHOW REGIONS, SHOW SURVIVAL
// GOAL, information_schema.columns, crdb_internal.tables), IF NOT EXISTS is used where CockroachDB
// has it, and a statement that fails because its work is "already" done is reported as done.
import type { RegionMap } from '../region-map.ts';
import type { Database } from './connect.ts';
import { pendingMigrations } from './migrate.ts';
import {
  type DdlStatement,
  type RegionsOptions,
  RegionsError,
  primaryRegionOf,
  quoteIdent,
  quoteLiteral,
  regionsStatements,
} from './regions.ts';
import { CITY_KEYED_TABLES } from './schema.ts';

export interface ApplyReport {
  readonly applied: number;
  readonly alreadyDone: number;
}

type Say = (line: string) => void;

/** CockroachDB's version from `SELECT version()`, e.g. [23, 2]; undefined if not recognised. */
export function cockroachVersion(versionText: string): [number, number] | undefined {
  const match = /CockroachDB \S* ?v(\d+)\.(\d+)/.exec(versionText);
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

/** The kind of database, for refusals: "PostgreSQL (postgres://…)". */
function describeDatabase(db: Database): string {
  if (db.kind === 'pglite') return `the embedded database (PGlite, ${db.displayUrl})`;
  if (db.kind === 'postgres') return `PostgreSQL (${db.displayUrl})`;
  return `CockroachDB (${db.displayUrl})`;
}

/** Throws RegionsError unless db is CockroachDB; sends it no query. */
export function assertCockroach(db: Database): void {
  if (db.kind !== 'cockroachdb') {
    throw new RegionsError(`movr db regions --apply needs CockroachDB; this database is ${describeDatabase(db)}`);
  }
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

// ---- before changing anything ---------------------------------------------------------------

/** Whether the cluster has database regions (21.1+); refuses REGIONAL BY ROW before that. */
async function checkVersion(db: Database, options: RegionsOptions): Promise<boolean> {
  const versionText = String((await db.execute('SELECT version() AS version'))[0]?.version ?? '');
  const version = cockroachVersion(versionText);
  const multiRegion = version === undefined || version[0] > 21 || (version[0] === 21 && version[1] >= 1);
  if (options.style === 'regional-by-row' && !multiRegion) {
    throw new RegionsError(
      `REGIONAL BY ROW needs CockroachDB 21.1 or later; this is v${version?.join('.')}: use --style partition-by-list`,
    );
  }
  return multiRegion;
}

/** Every region of the map must exist in the cluster: nodes started with --locality=region=<name>. */
async function checkClusterRegions(db: Database, options: RegionsOptions): Promise<void> {
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

async function checkMigrated(db: Database): Promise<void> {
  const pending = await pendingMigrations(db);
  if (pending.length > 0) {
    throw new RegionsError(
      `the database has ${pending.length} pending migration statements: run "movr db migrate" first, so that every table exists`,
    );
  }
}

async function warnOfUnmappedCities(db: Database, options: RegionsOptions, say: Say): Promise<void> {
  const unmapped = await unmappedCities(db, options.map);
  if (unmapped.length === 0) return;
  say(
    `warning: rows of cities the region map does not have (${unmapped.join(', ')}) ` +
      (options.style === 'regional-by-row'
        ? `will live in the primary region ${primaryRegionOf(options)}`
        : 'fall in no partition and are not kept in any region'),
  );
}

// ---- the current state -------------------------------------------------------------------------

interface ColumnState {
  table: string;
  generation: string;
}

interface RegionsState {
  regions: string[];
  primary: string | undefined;
  survival: string | undefined;
  columns: ColumnState[];
  localities: Map<string, string>;
}

/** What the database has already: regions, survival goal, crdb_region columns, table localities. */
async function readState(db: Database, database: string): Promise<RegionsState> {
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

/**
 * A crdb_region column from an earlier map (or from the workload, homed by gateway) is not
 * replaced by ADD COLUMN IF NOT EXISTS: say so instead of pretending it is right.
 */
function refuseStaleRegionColumns(state: RegionsState, map: RegionMap): void {
  const cities = map.cities.map((c) => c.name);
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

/** Whether the state shows the statement's work as done. */
function isDone(state: RegionsState, statement: DdlStatement): boolean {
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
      return statement.sql.endsWith('GLOBAL') ? locality === 'GLOBAL' : /^REGIONAL BY ROW( AS "?crdb_region"?)?$/.test(locality);
    }
    default:
      return false;
  }
}

// ---- running the statements --------------------------------------------------------------------

/** The statement on one line, shortened for the progress report. */
function summarize(sqlText: string): string {
  const line = sqlText.replace(/\s+/g, ' ').replace(/\( /g, '(').replace(/ \)/g, ')');
  return line.length > 110 ? `${line.slice(0, 107)}...` : line;
}

function isAlreadyError(error: unknown): boolean {
  return /\balready\b/i.test((error as Error)?.message ?? '');
}

/**
 * Runs the statements on a CockroachDB database, one at a time, skipping those whose work is
 * done. Throws RegionsError for a database it cannot or must not change.
 */
export async function applyRegions(db: Database, options: RegionsOptions, say: Say): Promise<ApplyReport> {
  assertCockroach(db);
  const statements = regionsStatements(options);
  if (await checkVersion(db, options)) await checkClusterRegions(db, options);
  await checkMigrated(db);
  await warnOfUnmappedCities(db, options, say);
  const state = options.style === 'regional-by-row' ? await readState(db, options.database) : undefined;
  if (state) refuseStaleRegionColumns(state, options.map);

  let applied = 0;
  let alreadyDone = 0;
  for (const [i, statement] of statements.entries()) {
    const label = `[${i + 1}/${statements.length}] ${summarize(statement.sql)}`;
    if (state && isDone(state, statement)) {
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
