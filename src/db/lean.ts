// The lean read path: the hottest reads (a city's vehicles, the workload's read) without Drizzle's
// per-query work and without node-postgres's query objects. See docs/decisions/0007-lean-read-path.md.
//
// A lean statement is declared with the query builder, like every other query, and turned into
// SQL once. On PostgreSQL and CockroachDB it is sent as a named prepared statement through a
// Submittable (node-postgres's documented extension point, the one pg-cursor uses): Parse once
// per connection, then Bind/Execute/Sync only, no Describe, no RowDescription, no Result object;
// each row arrives as its text fields and is turned into a value by the statement's own
// function. On PGlite the same SQL runs through client.query with every value left as text, so
// the same function reads the rows on both.
import { Placeholder, is, sql as drizzleSql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { type Executor, type Queryable, executorOf } from './connect.ts';
import { sqlState } from './errors.ts';
import { type PgConnection, Submittable, corked } from './pg-wire.ts';
import * as schema from './schema.ts';

/** The query builder, for SQL only: it never connects. */
const builder = drizzle.mock({ schema }) as unknown as Executor;

/** A row as the wire gives it: one text value (or null) per column. */
export type TextRow = readonly (string | null)[];

export interface LeanStatement<T> {
  readonly name: string;
  readonly text: string;
  /** The statement's parameters: a placeholder's name, or a value fixed by the query. */
  readonly params: readonly ({ placeholder: string } | { value: unknown })[];
  readonly row: (fields: TextRow) => T;
}

/** `sql.placeholder(name)`, re-exported so lean statements read like other queries. */
export const placeholder = (name: string) => drizzleSql.placeholder(name);

/**
 * A lean statement from a query built with placeholders (`placeholder('city')`) and a function
 * that turns a row's text fields, in the order of the select, into a value.
 */
export function leanStatement<T>(name: string, build: (db: Executor) => { toSQL(): { sql: string; params: unknown[] } }, row: (fields: TextRow) => T): LeanStatement<T> {
  const { sql, params } = build(builder).toSQL();
  return {
    name,
    text: sql,
    params: params.map((param) =>
      is(param, Placeholder) ? { placeholder: param.name } : { value: param },
    ),
    row,
  };
}

function valuesOf(statement: LeanStatement<unknown>, values: Readonly<Record<string, unknown>>): unknown[] {
  return statement.params.map((param) => ('placeholder' in param ? values[param.placeholder] : param.value));
}

/** A parameter as text for the wire, as node-postgres would send it (dates in UTC). */
function wireValue(value: unknown): string | Buffer | null {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Runs a named statement and hands each row's text fields to onRow. */
class LeanQuery extends Submittable {
  constructor(
    readonly name: string,
    readonly text: string,
    /** Public like a query config's, so that a recorder of sent statements can read them. */
    readonly values: unknown[],
    private readonly onRow: (fields: TextRow) => void,
    done: (error: Error | null) => void,
  ) {
    super(done);
  }

  submit(connection: PgConnection): null {
    corked(connection, () => {
      if (connection.parsedStatements[this.name] === undefined && connection.submittedNamedStatements[this.name] === undefined) {
        connection.parse({ text: this.text, name: this.name, types: [] });
        connection.submittedNamedStatements[this.name] = this.text;
      }
      connection.bind({ portal: '', statement: this.name, values: this.values.map(wireValue), binary: false });
      connection.execute({ portal: '', rows: 0 });
      connection.sync();
    });
    return null;
  }

  override handleDataRow(message: { fields: TextRow }): void {
    this.onRow(message.fields);
  }
}

/** What PGlite's query needs to leave every value of these types as its text. */
const AS_TEXT = Object.fromEntries(
  // bool, int8, int2, int4, text, json, float4, float8, varchar, timestamp, timestamptz, numeric, uuid, jsonb
  [16, 20, 21, 23, 25, 114, 700, 701, 1043, 1114, 1184, 1700, 2950, 3802].map((oid) => [oid, (value: string) => value]),
);

interface PgliteLike {
  exec: unknown;
  query(text: string, values: unknown[], options: { rowMode: 'array'; parsers: typeof AS_TEXT }): Promise<{ rows: TextRow[] }>;
}

/** Sends a statement on a node-postgres client (a pooled one, or a transaction's). */
function submit(client: { query(submittable: unknown): unknown }, statement: { name: string; text: string }, values: unknown[], onRow: (fields: TextRow) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    client.query(new LeanQuery(statement.name, statement.text, values, onRow, (error) => (error ? reject(error) : resolve())));
  });
}

/**
 * Runs `statement` with the counted-on `each` for every row, on the database (a pooled
 * connection) or inside a transaction (its connection).
 */
async function run(db: Queryable, statement: { name: string; text: string }, values: unknown[], each: (fields: TextRow) => void): Promise<void> {
  const client = (executorOf(db) as unknown as { $client: unknown }).$client;
  if (client instanceof pg.Pool) {
    const connection = await client.connect();
    let failure: unknown;
    try {
      await submit(connection, statement, values, each);
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      // A statement error (it has a SQLSTATE) leaves the connection usable; anything else may not.
      const broken = failure !== undefined && sqlState(failure) === undefined;
      connection.release(broken ? (failure as Error) : undefined);
    }
    return;
  }
  if (typeof client === 'object' && client !== null && 'exec' in client) {
    const { rows } = await (client as PgliteLike).query(statement.text, values, { rowMode: 'array', parsers: AS_TEXT });
    for (const row of rows) each(row);
    return;
  }
  await submit(client as { query(submittable: unknown): unknown }, statement, values, each);
}

/** The rows of a lean statement, as its row function makes them. */
export async function leanRows<T>(db: Queryable, statement: LeanStatement<T>, values: Readonly<Record<string, unknown>>): Promise<T[]> {
  const rows: T[] = [];
  await run(db, statement, valuesOf(statement as LeanStatement<unknown>, values), (fields) => rows.push(statement.row(fields)));
  return rows;
}

/** How many rows a statement (SQL text with $1…) returns, reading none of them. */
export async function leanCount(db: Queryable, statement: { name: string; text: string }, values: unknown[]): Promise<number> {
  let count = 0;
  await run(db, statement, values, () => {
    count++;
  });
  return count;
}

// ---- reading text fields ----------------------------------------------------------------------

/** A TIMESTAMP column's text ('2026-05-01 10:00:00.123456', UTC) as a Date (to the millisecond, as node-postgres reads it). */
export function textTimestamp(text: string | null): Date | null {
  if (text === null) return null;
  // The usual layout, 'YYYY-MM-DD HH:MM:SS[.ffffff]', read by slicing: Date's parser is several times slower.
  const usual = text[4] === '-' && text[10] === ' ' && text[0] !== '0' && (text.length === 19 || (text[19] === '.' && text.length <= 26));
  if (usual) {
    const part = (start: number, end: number) => Number(text.slice(start, end));
    const millis = text.length > 20 ? part(20, 23) * 10 ** (3 - Math.min(3, text.length - 20)) : 0;
    const time = Date.UTC(part(0, 4), part(5, 7) - 1, part(8, 10), part(11, 13), part(14, 16), part(17, 19), millis);
    if (Number.isFinite(time)) return new Date(time);
  }
  const iso = text.replace(' ', 'T');
  return new Date(/[Zz]|[+-]\d\d(:?\d\d)?$/.test(iso) ? iso : `${iso}Z`);
}

/** A FLOAT8 (or other number) column's text as a number. */
export function textNumber(text: string | null): number | null {
  return text === null ? null : Number(text);
}

/** A JSON or JSONB column's text as its value. */
export function textJson<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}
