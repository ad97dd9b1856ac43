// The hot read of `movr workload run` on PostgreSQL and CockroachDB, made lean enough that the
// load generator is not what limits the read rate (see docs/workload.md, "Is the runner the
// bottleneck?", and docs/decisions/0007-lean-read-path.md).
//
// It sends the statement of prepareCityVehiclesRead (src/movr/vehicles.ts) unchanged, as a named
// prepared statement, through the same node-postgres pool the domain functions use, on the lean
// path of src/db/lean.ts, counting the rows without reading them. Measured on the project's
// 2-core machine, client CPU per read went from about 75 µs through Drizzle and about 60 µs with a
// plain named pool.query to about 40 µs.
import type { Database } from '../db/connect.ts';
import { leanCount } from '../db/lean.ts';

/** One statement name per statement text: a connection keeps each name's parsed statement. */
const statementNames = new Map<string, string>();

function statementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) {
    name = `movr_workload_${statementNames.size + 1}`;
    statementNames.set(text, name);
  }
  return name;
}

/**
 * The lean form of `statement` (text with one parameter, $1) for a PostgreSQL or CockroachDB
 * database: resolves with the number of rows. Undefined for PGlite, whose one connection gains
 * nothing from it.
 */
export function leanCountingRead(db: Database, statement: string): ((value: string) => Promise<number>) | undefined {
  if (db.kind === 'pglite') return undefined;
  const prepared = { name: statementName(statement), text: statement };
  return (value: string) => leanCount(db, prepared, [value]);
}
