// The SQL that geo-partitions a MovR database on CockroachDB, generated from the region map:
// what `movr db regions --print` writes and `--apply` runs (src/db/regions-apply.ts).
//
// Two styles:
// - regional-by-row (CockroachDB 21.1 and later, the default): the database gets its regions
//   and a survival goal; every city-keyed table gets a stored computed column crdb_region that
//   maps its city to the city's region and becomes REGIONAL BY ROW AS crdb_region, so a row
//   lives in its city's region whichever gateway inserted it; promo_codes becomes GLOBAL.
// - partition-by-list (the 19.2 era of the Flask tutorial): every city-led primary key and
//   index is partitioned by city into one partition per region, each pinned to its region by
//   a zone constraint; promo_codes gets one covering index per other region with its leaseholder
//   there (the duplicate-indexes pattern).
//
// Nothing here touches a database.
import type { RegionMap, RegionName } from '../region-map.ts';
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

/** The region the database is homed in: options.primaryRegion, checked, or the map's first region. */
export function primaryRegionOf(options: RegionsOptions): RegionName {
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
