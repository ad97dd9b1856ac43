// The one way MovR writes: every read-write transaction goes through runTransaction.
//
// - SERIALIZABLE isolation on every database.
// - On a serialization conflict (SQLSTATE 40001) the whole callback runs again, so application
//   logic re-reads what it decided on, after a capped exponential backoff with full jitter.
// - A connection that broke before COMMIT was sent is discarded and the transaction runs again
//   on another one, like a conflict; after the last attempt that is DatabaseUnavailableError.
// - On CockroachDB the client-side retry protocol is used: SAVEPOINT cockroach_restart, and on
//   40001 ROLLBACK TO SAVEPOINT (the transaction keeps its place in line), RELEASE to commit.
// - SQLSTATE 40003, or a connection lost while committing, means the commit may or may not have
//   happened: that surfaces as AmbiguousCommitError and is never retried blindly.
// See docs/decisions/0002-transactions-and-retries.md.
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { type Database, INJECTED_ATTEMPTS, type Transaction, type TransactionAttempt, type TransactionSettings } from './connect.ts';
import {
  AmbiguousCommitError,
  DatabaseUnavailableError,
  SERIALIZATION_FAILURE,
  STATEMENT_COMPLETION_UNKNOWN,
  TransactionRetriesExhaustedError,
  isConnectionError,
  sqlState,
} from './errors.ts';

export type TransactionWork<T> = (tx: Transaction) => Promise<T>;

/**
 * Runs `work` in a SERIALIZABLE transaction, retrying it whole on serialization conflicts and
 * on connections lost before COMMIT. `name` identifies the transaction in retry statistics.
 * Errors thrown by `work` roll the transaction back and reach the caller unchanged. `work` may
 * run several times: it must do nothing outside the transaction and keep no state across runs.
 */
export async function runTransaction<T>(
  db: Database,
  name: string,
  work: TransactionWork<T>,
  overrides: Partial<TransactionSettings> = {},
): Promise<T> {
  const settings = { ...db.transactionSettings, ...overrides };
  const stats = db.transactionStats;
  const run = { attempts: 0, committing: false };
  const attempt: TransactionAttempt = {
    injectRetryErrors: () => (run.attempts <= INJECTED_ATTEMPTS ? settings.injectRetryErrors : 0),
    beforeCommit: () => {
      run.committing = true;
    },
  };

  /** CockroachDB's protocol: on 40001, ROLLBACK TO SAVEPOINT and run the work again; RELEASE commits. */
  const withSavepoint: TransactionWork<T> = async (tx) => {
    await tx.execute(sql`SAVEPOINT cockroach_restart`);
    for (;;) {
      try {
        const value = await work(tx);
        run.committing = true;
        await tx.execute(sql`RELEASE SAVEPOINT cockroach_restart`);
        return value;
      } catch (error) {
        if (!isSerializationFailure(error) || run.attempts >= settings.maxAttempts) throw error;
        run.committing = false;
        stats.recordRetry(name);
        await tx.execute(sql`ROLLBACK TO SAVEPOINT cockroach_restart`);
        await sleep(backoffDelay(settings, run.attempts));
        run.attempts++;
      }
    }
  };

  for (;;) {
    run.committing = false;
    run.attempts++;
    try {
      const result = await db.transaction(settings.savepointProtocol ? withSavepoint : work, attempt);
      stats.recordCommit(name);
      return result;
    } catch (error) {
      const conflict = isSerializationFailure(error);
      if ((conflict || (!run.committing && isConnectionError(error))) && run.attempts < settings.maxAttempts) {
        if (conflict) stats.recordRetry(name);
        else stats.recordReconnect(name);
        await sleep(backoffDelay(settings, run.attempts));
        continue;
      }
      stats.recordFailure(name);
      if (sqlState(error) === STATEMENT_COMPLETION_UNKNOWN || (run.committing && isConnectionError(error))) {
        stats.recordAmbiguous(name);
        throw new AmbiguousCommitError(name, { cause: error });
      }
      if (conflict) throw new TransactionRetriesExhaustedError(name, run.attempts, { cause: error });
      if (isConnectionError(error)) throw new DatabaseUnavailableError(name, { cause: error });
      throw error;
    }
  }
}

export function isSerializationFailure(error: unknown): boolean {
  return sqlState(error) === SERIALIZATION_FAILURE;
}

/** Full jitter: a random delay up to the capped exponential bound, so retries spread out. */
export function backoffDelay(settings: Pick<TransactionSettings, 'baseDelayMs' | 'maxDelayMs'>, attempt: number): number {
  const bound = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** attempt);
  return Math.random() * bound;
}
