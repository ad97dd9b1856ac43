// The hot read of `movr workload run` on PostgreSQL and CockroachDB, made lean enough that the
// load generator is not what limits the read rate (see docs/workload.md, "Is the runner the
// bottleneck?").
//
// It sends the statement of prepareCityVehiclesRead (src/movr/vehicles.ts) unchanged, as a named
// prepared statement, through the same node-postgres pool the domain functions use, but as a
// Submittable (node-postgres's documented extension point, the one pg-cursor uses) that only
// counts the rows: no query-config copy, no portal Describe and RowDescription, no row parsing,
// no Result object. Measured on the project's 2-core machine, client CPU per read went from about
// 75 µs through Drizzle and about 60 µs with a plain named pool.query to about 40 µs.
import pg from 'pg';
import type { Database } from '../db/connect.ts';
import { sqlState } from '../db/errors.ts';

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

/** The parts of node-postgres's Connection a Submittable drives (lib/connection.js). */
interface PgConnection {
  stream: { cork?: () => void; uncork?: () => void };
  parsedStatements: Record<string, string | undefined>;
  submittedNamedStatements: Record<string, string | undefined>;
  parse(query: { text: string; name: string; types: unknown[] }): void;
  bind(config: { portal: string; statement: string; values: unknown[]; binary: boolean }): void;
  execute(config: { portal: string; rows: number }): void;
  sync(): void;
  sendCopyFail(message: string): void;
}

/** Runs the named statement with one parameter and counts the rows it returns. */
class CountRows {
  private rows = 0;

  constructor(
    readonly name: string,
    readonly text: string,
    private readonly values: unknown[],
    private readonly done: (error: Error | null, rows: number) => void,
  ) {}

  submit(connection: PgConnection): null {
    connection.stream.cork?.();
    try {
      if (connection.parsedStatements[this.name] === undefined && connection.submittedNamedStatements[this.name] === undefined) {
        connection.parse({ text: this.text, name: this.name, types: [] });
        connection.submittedNamedStatements[this.name] = this.text;
      }
      connection.bind({ portal: '', statement: this.name, values: this.values, binary: false });
      connection.execute({ portal: '', rows: 0 });
      connection.sync();
    } finally {
      connection.stream.uncork?.();
    }
    return null;
  }

  handleDataRow(): void {
    this.rows++;
  }

  /** The last message of a successful statement. */
  handleReadyForQuery(): void {
    this.done(null, this.rows);
  }

  /** A failed statement ends here (node-postgres drops it as the active query before ReadyForQuery). */
  handleError(error: Error): void {
    this.done(error, 0);
  }

  handleRowDescription(): void {}
  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
  handleCopyInResponse(connection: PgConnection): void {
    connection.sendCopyFail('COPY is not expected here');
  }
}

/**
 * The lean form of `statement` (text with one parameter, $1) for a PostgreSQL or CockroachDB
 * database: resolves with the number of rows. Undefined for PGlite, which has no pool.
 */
export function leanCountingRead(db: Database, statement: string): ((value: string) => Promise<number>) | undefined {
  const pool = (db.orm as { $client?: unknown }).$client;
  if (!(pool instanceof pg.Pool)) return undefined;
  const name = statementName(statement);
  return async (value: string) => {
    const client = await pool.connect();
    let failure: Error | null = null;
    try {
      return await new Promise<number>((resolve, reject) => {
        const query = new CountRows(name, statement, [value], (error, rows) => (error ? reject(error) : resolve(rows)));
        // A Submittable goes to the client as is (client.query's documented second form).
        client.query(query as unknown as pg.Submittable);
      });
    } catch (error) {
      failure = error as Error;
      throw error;
    } finally {
      // A statement error (it has a SQLSTATE) leaves the connection usable; anything else may not.
      const statementError = failure !== null && sqlState(failure) !== undefined;
      client.release(failure !== null && !statementError ? failure : undefined);
    }
  };
}
