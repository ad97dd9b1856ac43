// Named statements in plain SQL, for the few hot writes a query builder cannot say in one
// statement (several tables changed at once with data-modifying WITH clauses). On PostgreSQL
// and CockroachDB a named statement is parsed once per connection; PGlite runs the text.
//
// Values go in as the driver sends them: pass timestamps as ISO strings (toISOString()), which
// TIMESTAMP columns read as UTC whatever the session's time zone; rows come back as the driver
// parses them, so return only what the types make plain (ids, counts).
import { type Queryable, executorOf } from './connect.ts';

export interface Statement {
  /** Unique among MovR's statements: the name it is prepared under. */
  readonly name: string;
  readonly text: string;
}

interface PgLike {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: Record<string, unknown>[] }>;
}
interface PgliteLike {
  exec: unknown;
  query(text: string, values: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/** Runs a statement on the handle's connection (a transaction's, or the pool's). */
export async function runStatement(db: Queryable, statement: Statement, values: unknown[]): Promise<Record<string, unknown>[]> {
  const client = (executorOf(db) as unknown as { $client: PgLike | PgliteLike }).$client;
  if ('exec' in client) return (await client.query(statement.text, values)).rows;
  return (await client.query({ name: statement.name, text: statement.text, values })).rows;
}
