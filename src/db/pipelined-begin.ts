// BEGIN in the same round trip as a transaction's first statement, on PostgreSQL and CockroachDB.
//
// node-postgres sends each query when the one before it has been answered, so BEGIN, then the
// first read, cost two round trips. Here BEGIN is a statement prepared once per connection
// (`movr_begin`, during the connection's first transaction), and a transaction's first statement carries Bind and Execute of it ahead of
// its own Parse/Bind/Describe/Execute, with one Sync after both, as pgjdbc does. PostgreSQL runs
// an explicit BEGIN inside the extended protocol's implicit block and keeps the transaction open
// past the Sync. If BEGIN fails the statement fails with it and nothing runs outside a
// transaction; if the statement fails, the transaction is aborted and the runner rolls it back.
// See docs/decisions/0013-fewer-round-trips.md.
import pg from 'pg';
import { type PgConnection, Submittable, corked } from './pg-wire.ts';

export const BEGIN = 'BEGIN ISOLATION LEVEL SERIALIZABLE';
/** The name of the prepared BEGIN on every pooled connection. */
export const BEGIN_STATEMENT = 'movr_begin';

/**
 * On a connection's first transaction: parses BEGIN as `movr_begin` and runs it, in the one
 * round trip a plain BEGIN costs.
 */
class PrepareAndBegin extends Submittable {
  readonly name = BEGIN_STATEMENT;
  readonly text = BEGIN;

  submit(connection: PgConnection): null {
    corked(connection, () => {
      connection.parse({ text: BEGIN, name: BEGIN_STATEMENT, types: [] });
      connection.submittedNamedStatements[BEGIN_STATEMENT] = BEGIN;
      connection.bind({ portal: '', statement: BEGIN_STATEMENT, values: [], binary: false });
      connection.execute({ portal: '', rows: 0 });
      connection.sync();
    });
    return null;
  }
}

/**
 * Begins a transaction on a connection that has no `movr_begin` yet, preparing it on the way.
 * Resolves true when both worked; false when the server refused (the transaction is then begun
 * with a plain BEGIN, and the connection keeps doing so); rejects when the connection failed.
 */
export async function prepareAndBegin(client: pg.ClientBase): Promise<boolean> {
  const error = await new Promise<Error | null>((resolve) => {
    client.query(new PrepareAndBegin(resolve) as unknown as pg.QueryConfig);
  });
  if (error === null) return true;
  await client.query(BEGIN);
  return false;
}

interface QueryInternals {
  text: string;
  name: string | undefined;
  values: unknown[] | undefined;
  queryMode: string | undefined;
  callback: ((error: Error | null, result?: unknown) => void) | undefined;
  submit(connection: PgConnection): Error | null;
  handleCommandComplete(message: unknown, connection: PgConnection): void;
}

/** pg.Query as it is at run time (its typings hide these members). */
const QueryBase = pg.Query as unknown as new (config: unknown, values?: unknown) => QueryInternals & { handleError(error: Error, connection: PgConnection): void };

/**
 * A node-postgres query that first begins the transaction. The BEGIN's own CommandComplete is
 * the first one to arrive and is not the query's; everything else is pg.Query's.
 */
export class BeginningQuery extends QueryBase {
  /** For recorders of sent statements (the bench): this query sends BEGIN first. */
  readonly begins = BEGIN;
  private beginAnswered = false;

  constructor(
    config: unknown,
    values: unknown,
    /** Called when BEGIN itself failed (the query fails too): the attempt must stop. */
    private readonly onBeginFailed: (error: Error) => void,
  ) {
    super(config, values);
    // Never the simple protocol: a Query message would end the pipeline before BEGIN runs.
    this.queryMode = 'extended';
  }

  override submit(connection: PgConnection): Error | null {
    // What pg.Query refuses (it returns an error without writing): refuse before BEGIN too.
    const previous = this.name ? (connection.parsedStatements[this.name] ?? connection.submittedNamedStatements[this.name]) : undefined;
    const invalid = (typeof this.text !== 'string' && typeof this.name !== 'string') || (this.text && previous && this.text !== previous) || (this.values && !Array.isArray(this.values));
    if (invalid) return super.submit(connection);
    let error: Error | null = null;
    corked(connection, () => {
      connection.bind({ portal: '', statement: BEGIN_STATEMENT, values: [], binary: false });
      connection.execute({ portal: '', rows: 0 });
      error = super.submit(connection);
    });
    return error;
  }

  override handleError(error: Error, connection: PgConnection): void {
    if (!this.beginAnswered) this.onBeginFailed(error);
    super.handleError(error, connection);
  }

  override handleCommandComplete(message: unknown, connection: PgConnection): void {
    if (!this.beginAnswered) {
      this.beginAnswered = true;
      return;
    }
    super.handleCommandComplete(message, connection);
  }
}

/** Sends `args` (client.query's arguments: a config or text and values) as a BeginningQuery. */
export function queryBeginning(client: pg.ClientBase, args: readonly unknown[], onBeginFailed: (error: Error) => void): Promise<unknown> {
  const query = new BeginningQuery(args[0], args[1], onBeginFailed);
  return new Promise((resolve, reject) => {
    query.callback = (error, result) => (error ? reject(error) : resolve(result));
    client.query(query as unknown as pg.QueryConfig);
  });
}
