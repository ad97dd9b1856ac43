// Opens one of the three kinds of database MovR runs on, behind one Drizzle interface:
// `pglite:<dir>` / `pglite:memory` (embedded), `postgres://` (PostgreSQL or CockroachDB).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import pg from 'pg';
import * as schema from './schema.ts';
import { TransactionStats } from './transaction-stats.ts';

export type Schema = typeof schema;

interface QueryRows<TRow> {
  rows: TRow[];
}

/** What raw `execute` returns on both drivers: node-postgres and PGlite results both carry `rows`. */
export interface QueryResultHKT extends PgQueryResultHKT {
  readonly type: QueryRows<this['row']>;
}
/** A Drizzle handle: the database itself or an open transaction. Domain functions take one. */
export type Executor = PgDatabase<QueryResultHKT, Schema>;
export type Transaction = PgTransaction<QueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;

/** What a read takes: the database itself, or a transaction it is part of. */
export type Queryable = Database | Executor;

/** The Drizzle handle of a Queryable. */
export function executorOf(db: Queryable): Executor {
  return 'transactionSettings' in db ? db.orm : db;
}

export type DatabaseKind = 'pglite' | 'postgres' | 'cockroachdb';

export interface TransactionSettings {
  /** Attempts per transaction before giving up on serialization conflicts. */
  maxAttempts: number;
  /** Backoff before retry n is a random delay in [0, min(maxDelayMs, baseDelayMs * 2^n)]. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** CockroachDB's client-side retry protocol (SAVEPOINT cockroach_restart). */
  savepointProtocol: boolean;
}

export interface Database {
  readonly kind: DatabaseKind;
  /** The URL with any password removed, for logs and messages. */
  readonly displayUrl: string;
  readonly orm: Executor;
  readonly transactionSettings: TransactionSettings;
  readonly transactionStats: TransactionStats;
  /** Runs one statement outside any transaction (DDL, health checks, bulk loads). */
  execute(sqlText: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** Closes the connection or pool; calling it again does nothing. */
  close(): Promise<void>;
}

export interface OpenOptions {
  poolSize?: number;
  transactionMaxAttempts?: number;
  /** Force the savepoint protocol on or off; by default it is on for CockroachDB only. */
  savepointProtocol?: boolean;
  /** Name reported to the server (pg application_name). */
  applicationName?: string;
}

export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+):[^@/]*@/, '$1:***@');
}

export async function openDatabase(url: string, options: OpenOptions = {}): Promise<Database> {
  if (url.startsWith('pglite:')) return openPglite(url.slice('pglite:'.length), options);
  if (/^postgres(ql)?:\/\//.test(url)) return openPostgres(url, options);
  throw new Error(`Unsupported database URL ${redactUrl(url)}: use postgres://, pglite:<dir> or pglite:memory`);
}

function transactionSettings(kind: DatabaseKind, options: OpenOptions): TransactionSettings {
  return {
    maxAttempts: options.transactionMaxAttempts ?? 10,
    baseDelayMs: 5,
    maxDelayMs: 1000,
    savepointProtocol: options.savepointProtocol ?? kind === 'cockroachdb',
  };
}

async function openPglite(location: string, options: OpenOptions): Promise<Database> {
  let client: PGlite;
  let unlock = () => {};
  if (location === 'memory') {
    client = new PGlite();
  } else {
    mkdirSync(location, { recursive: true });
    unlock = lockDirectory(location);
    client = new PGlite(location);
  }
  try {
    await client.waitReady;
  } catch (error) {
    unlock();
    throw error;
  }
  const orm = drizzlePglite({ client, schema }) as unknown as Executor;
  return {
    kind: 'pglite',
    displayUrl: `pglite:${location}`,
    orm,
    transactionSettings: transactionSettings('pglite', options),
    transactionStats: new TransactionStats(),
    async execute(sqlText, params) {
      return (await client.query<Record<string, unknown>>(sqlText, params)).rows;
    },
    close: once(async () => {
      try {
        await client.close();
      } finally {
        unlock();
      }
    }),
  };
}

async function openPostgres(url: string, options: OpenOptions): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    application_name: options.applicationName ?? 'movr',
    connectionTimeoutMillis: 10_000,
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  let version: string;
  try {
    const result = await pool.query<{ version: string }>('SELECT version() AS version');
    version = result.rows[0]?.version ?? '';
  } catch (error) {
    await pool.end();
    throw new Error(`Cannot connect to ${redactUrl(url)}: ${(error as Error).message}`, { cause: error });
  }
  const kind: DatabaseKind = version.includes('CockroachDB') ? 'cockroachdb' : 'postgres';
  const orm = drizzlePg({ client: pool, schema }) as unknown as Executor;
  return {
    kind,
    displayUrl: redactUrl(url),
    orm,
    transactionSettings: transactionSettings(kind, options),
    transactionStats: new TransactionStats(),
    async execute(sqlText, params) {
      return (await pool.query<Record<string, unknown>>(sqlText, params)).rows;
    },
    close: once(() => pool.end()),
  };
}

function once(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= close());
}

/**
 * PGlite keeps no lock of its own, and two processes writing one data directory corrupt it.
 * `<dir>.lock` holds the owner's pid; a lock whose process is gone is taken over.
 */
function lockDirectory(dir: string): () => void {
  const lockFile = `${dir.replace(/\/+$/, '')}.lock`;
  let owner: number | undefined;
  try {
    owner = Number(readFileSync(lockFile, 'utf8').trim());
  } catch {
    owner = undefined;
  }
  if (owner && owner !== process.pid && processIsAlive(owner)) {
    throw new Error(`The embedded database in ${dir} is in use by another MovR process (pid ${owner}); stop it first`);
  }
  writeFileSync(lockFile, String(process.pid));
  return () => rmSync(lockFile, { force: true });
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
