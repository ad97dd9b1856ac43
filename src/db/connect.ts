// Opens one of the three kinds of database MovR runs on, behind one Drizzle interface:
// `pglite:<dir>` / `pglite:memory` (embedded), `postgres://` (PostgreSQL or CockroachDB).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import pg from 'pg';
import * as schema from './schema.ts';
import { ConnectionLostError, SERIALIZATION_FAILURE, isConnectionError } from './errors.ts';
import { BEGIN, prepareAndBegin, queryBeginning } from './pipelined-begin.ts';
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
/** A Drizzle handle bound to one open transaction's connection. */
export type Transaction = Executor;

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
  /**
   * Test and development only (MOVR_INJECT_RETRY_ERRORS): the probability that a statement inside
   * a read-write transaction fails with SQLSTATE 40001, in the first INJECTED_ATTEMPTS attempts
   * of each transaction, as CockroachDB's inject_retry_errors_enabled does. 0: never.
   */
  injectRetryErrors: number;
}

/** Attempts of a transaction that may get injected retry errors; later ones never do. */
export const INJECTED_ATTEMPTS = 3;

/** How one attempt of a transaction runs (see Database.transaction). */
export interface TransactionAttempt {
  /** The probability, now, of an injected 40001 for a statement of the work (0: none). */
  readonly injectRetryErrors: () => number;
  /** Called right before COMMIT is sent: from then on, a lost connection leaves the outcome unknown. */
  readonly beforeCommit: () => void;
}

/** Pool figures, for operators (pg pools only). */
export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
  /** Connections that failed while open (errors and unexpected ends) since the pool was opened. */
  connectionErrors: number;
}

export interface Database {
  readonly kind: DatabaseKind;
  /** The URL with any password removed, for logs and messages. */
  readonly displayUrl: string;
  /** Reads outside transactions. */
  readonly orm: Executor;
  readonly transactionSettings: TransactionSettings;
  readonly transactionStats: TransactionStats;
  /**
   * One attempt of a transaction on one connection: BEGIN ISOLATION LEVEL SERIALIZABLE, `work`,
   * COMMIT; ROLLBACK when `work` throws. A connection that failed is discarded, never reused.
   * Use runTransaction (transaction.ts), which retries; not this.
   */
  transaction<T>(work: (tx: Transaction) => Promise<T>, attempt: TransactionAttempt): Promise<T>;
  /** Runs one statement outside any transaction (DDL, health checks, bulk loads). */
  execute(sqlText: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** Pool figures; undefined for the embedded database (one connection, no pool). */
  poolStats(): PoolStats | undefined;
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
  /** Give up connecting after this long (default 5 s). */
  connectTimeoutMs?: number;
  /**
   * A statement that runs longer is cancelled by the server (statement_timeout), and one whose
   * answer does not arrive 2 s after that is given up by the client, its connection discarded
   * (a database that stopped answering). Default 15 s; 0 turns both off.
   */
  statementTimeoutMs?: number;
  /** See TransactionSettings.injectRetryErrors. */
  injectRetryErrors?: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_STATEMENT_TIMEOUT_MS = 15_000;
/** How much longer than statement_timeout the client waits for an answer before it gives up. */
const CLIENT_TIMEOUT_MARGIN_MS = 2_000;

export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+):[^@/]*@/, '$1:***@');
}

export async function openDatabase(url: string, options: OpenOptions = {}): Promise<Database> {
  if (url.startsWith('pglite:')) return openPglite(url.slice('pglite:'.length), options);
  if (/^postgres(ql)?:\/\//.test(url)) return openPostgres(url, options);
  throw new Error(`Unsupported database URL ${redactUrl(url)}: use postgres://, pglite:<dir> or pglite:memory`);
}

function transactionSettings(kind: DatabaseKind, options: OpenOptions): TransactionSettings {
  const injectRetryErrors = options.injectRetryErrors ?? 0;
  return {
    // Injected errors take from the first INJECTED_ATTEMPTS attempts only: those are added to
    // the budget, so that real conflicts keep the attempts they have without injection.
    maxAttempts: (options.transactionMaxAttempts ?? 10) + (injectRetryErrors > 0 ? INJECTED_ATTEMPTS : 0),
    baseDelayMs: 5,
    maxDelayMs: 1000,
    savepointProtocol: options.savepointProtocol ?? kind === 'cockroachdb',
    injectRetryErrors,
  };
}


/** An error as a driver would raise for a serialization failure, made up on purpose. */
function injectedRetryError(): Error {
  return Object.assign(new Error('restart transaction: TransactionRetryWithProtoRefreshError: injected by MOVR_INJECT_RETRY_ERRORS'), {
    code: SERIALIZATION_FAILURE,
  });
}

/** The runner's own retry protocol statements get no injected errors, as on CockroachDB. */
const RETRY_PROTOCOL = /^\s*(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT)\b/i;

function statementText(query: unknown): string {
  if (typeof query === 'string') return query;
  const text = (query as { text?: unknown } | null)?.text;
  return typeof text === 'string' ? text : '';
}

/** Where a connection's wrapper finds the attempt it serves (none outside transactions). */
interface Injection {
  attempt: TransactionAttempt | undefined;
}

/** A client whose query() fails with an injected 40001 with the current attempt's probability. */
function injecting<C extends { query: (...args: never[]) => unknown }>(client: C, injection: Injection): C {
  const wrapper = Object.create(client) as C;
  wrapper.query = ((...args: never[]) => {
    const probability = RETRY_PROTOCOL.test(statementText(args[0])) ? 0 : (injection.attempt?.injectRetryErrors() ?? 0);
    return probability > 0 && Math.random() < probability ? Promise.reject(injectedRetryError()) : client.query(...args);
  }) as C['query'];
  return wrapper;
}

/** The embedded database's folder is held by another live MovR process. */
export class DatabaseInUseError extends Error {
  override name = 'DatabaseInUseError';
}

async function openPglite(location: string, options: OpenOptions): Promise<Database> {
  // Loaded only here: a server on PostgreSQL or CockroachDB never holds the embedded database's code.
  const [{ PGlite }, { drizzle: drizzlePglite }] = await Promise.all([import('@electric-sql/pglite'), import('drizzle-orm/pglite')]);
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
    // PGlite is one connection: its transaction() runs one transaction at a time, exclusively.
    transaction(work, attempt) {
      return client.transaction(async (pgTx) => {
        await pgTx.query('SET TRANSACTION ISOLATION LEVEL SERIALIZABLE');
        const tx = drizzlePglite({ client: injecting(pgTx, { attempt }) as unknown as PGlite, schema }) as unknown as Transaction;
        const result = await work(tx);
        attempt.beforeCommit();
        return result;
      });
    },
    async execute(sqlText, params) {
      return (await client.query<Record<string, unknown>>(sqlText, params)).rows;
    },
    poolStats: () => undefined,
    close: once(async () => {
      try {
        await client.close();
      } finally {
        unlock();
      }
    }),
  };
}

/** What a pooled connection carries for transactions: its Drizzle handle and injection state. */
interface ConnectionState {
  readonly tx: Transaction;
  readonly injection: Injection;
  /** Set when the connection failed or ended: it is not used again. */
  broken: boolean;
  /**
   * Whether `movr_begin` is prepared on this connection, so that BEGIN rides with a first
   * statement: unknown until the connection's first transaction prepares it.
   */
  beginPrepared: boolean | undefined;
  /** The open transaction's BEGIN has not been sent yet: the next statement carries it. */
  beginPending: boolean;
  /** BEGIN failed: nothing more may run in this attempt (it would run outside a transaction). */
  beginFailure: Error | undefined;
}

/**
 * The connection as a transaction's statements see it: the first statement of each attempt
 * carries the pending BEGIN (pipelined-begin.ts).
 */
function beginning(client: pg.PoolClient, state: ConnectionState): pg.PoolClient {
  const wrapper = Object.create(client) as pg.PoolClient;
  wrapper.query = ((...args: unknown[]) => {
    if (state.beginFailure) return Promise.reject(state.beginFailure);
    if (!state.beginPending) return (client.query as (...a: unknown[]) => unknown)(...args);
    state.beginPending = false;
    const failed = (error: Error) => {
      state.beginFailure ??= error;
    };
    const submittable = args[0] as { submit?: unknown; handleError?: (error: Error) => void } | null;
    if (typeof submittable?.submit === 'function') {
      // A Submittable (the lean path) cannot carry BEGIN: BEGIN is sent first, on its own.
      void client.query(BEGIN).then(
        () => (client.query as (...a: unknown[]) => unknown)(...args),
        (error: Error) => {
          failed(error);
          submittable.handleError?.(error);
        },
      );
      return undefined;
    }
    return queryBeginning(client, args, failed);
  }) as pg.PoolClient['query'];
  return wrapper;
}

async function openPostgres(url: string, options: OpenOptions): Promise<Database> {
  const statementTimeoutMs = options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    application_name: options.applicationName ?? 'movr',
    connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    keepAlive: true,
    ...(statementTimeoutMs > 0
      ? { statement_timeout: statementTimeoutMs, query_timeout: statementTimeoutMs + CLIENT_TIMEOUT_MARGIN_MS }
      : {}),
  });
  const connections = new WeakMap<pg.PoolClient, ConnectionState>();
  let connectionErrors = 0;
  // Every connection the pool ever opens gets a listener: a connection that dies, idle or
  // checked out, is counted and marked, never an unhandled 'error' that kills the process.
  pool.on('connect', (client) => {
    const injection: Injection = { attempt: undefined };
    const state: ConnectionState = {
      tx: undefined as unknown as Transaction,
      injection,
      broken: false,
      beginPrepared: undefined,
      beginPending: false,
      beginFailure: undefined,
    };
    (state as { tx: Transaction }).tx = drizzlePg({ client: injecting(beginning(client, state), injection), schema }) as unknown as Transaction;
    connections.set(client, state);
    const markBroken = () => {
      if (!state.broken) connectionErrors++;
      state.broken = true;
    };
    client.on('error', markBroken);
    client.on('end', () => {
      state.broken = true;
    });
  });
  pool.on('error', () => {
    // An idle client lost its connection: its own listener counted it; the pool replaces it.
  });
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
    async transaction(work, attempt) {
      const client = await pool.connect();
      const state = connections.get(client);
      let failure: unknown;
      try {
        if (!state) throw new Error('a pooled connection without its state');
        state.beginFailure = undefined;
        if (state.beginPrepared) state.beginPending = true;
        else if (state.beginPrepared === undefined) state.beginPrepared = await prepareAndBegin(client);
        else await client.query(BEGIN);
        state.injection.attempt = attempt;
        const result = await work(state.tx);
        state.injection.attempt = undefined;
        if (state.beginFailure) throw state.beginFailure;
        // A connection known to be gone never received the COMMIT: the outcome is certain.
        if (state.broken) throw new ConnectionLostError();
        attempt.beforeCommit();
        // Work that sent no statement began no transaction: there is nothing to commit.
        if (!state.beginPending) await client.query('COMMIT');
        return result;
      } catch (error) {
        failure = error;
        if (state?.beginFailure) {
          // A connection that cannot begin a transaction (its movr_begin gone, say) is
          // discarded, and the runner tries again on another: nothing ran in this attempt.
          state.broken = true;
          failure = new ConnectionLostError({ cause: state.beginFailure });
          throw failure;
        }
        if (state && !state.broken && !isConnectionError(error) && !state.beginPending) {
          await client.query('ROLLBACK').catch((rollbackError: unknown) => {
            failure = rollbackError;
          });
        }
        throw error;
      } finally {
        if (state) {
          state.injection.attempt = undefined;
          state.beginPending = false;
        }
        const discard = state?.broken || isConnectionError(failure);
        client.release(discard ? (failure instanceof Error ? failure : new ConnectionLostError()) : undefined);
      }
    },
    async execute(sqlText, params) {
      return (await pool.query<Record<string, unknown>>(sqlText, params)).rows;
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, connectionErrors }),
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
    throw new DatabaseInUseError(`The embedded database in ${dir} is in use by another MovR process (pid ${owner}); stop it first`);
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
