// The one way MovR writes: every read-write transaction goes through runTransaction.
//
// - SERIALIZABLE isolation on every database.
// - On a serialization conflict (SQLSTATE 40001) the whole callback runs again, so application
//   logic re-reads what it decided on, after a capped exponential backoff with full jitter.
// - On CockroachDB the client-side retry protocol is used: SAVEPOINT cockroach_restart, and on
//   40001 ROLLBACK TO SAVEPOINT (the transaction keeps its place in line), RELEASE to commit.
// - SQLSTATE 40003, or a connection lost while committing, means the commit may or may not have
//   happened: that surfaces as AmbiguousCommitError and is never retried blindly.
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import type { Database, Transaction, TransactionSettings } from './connect.ts';
import {
  AmbiguousCommitError,
  SERIALIZATION_FAILURE,
  STATEMENT_COMPLETION_UNKNOWN,
  TransactionRetriesExhaustedError,
  sqlState,
} from './errors.ts';

export type TransactionWork<T> = (tx: Transaction) => Promise<T>;

/**
 * Runs `work` in a SERIALIZABLE transaction, retrying it whole on serialization conflicts.
 * `name` identifies the transaction in retry statistics. Errors thrown by `work` roll the
 * transaction back and reach the caller unchanged.
 */
export async function runTransaction<T>(
  db: Database,
  name: string,
  work: TransactionWork<T>,
  overrides: Partial<TransactionSettings> = {},
): Promise<T> {
  const settings = { ...db.transactionSettings, ...overrides };
  let attempts = 0;
  for (;;) {
    let committing = false;
    try {
      const result = await db.orm.transaction(
        async (tx) => {
          if (!settings.savepointProtocol) {
            attempts++;
            const value = await work(tx);
            committing = true;
            return value;
          }
          await tx.execute(sql`SAVEPOINT cockroach_restart`);
          for (;;) {
            attempts++;
            try {
              const value = await work(tx);
              committing = true;
              await tx.execute(sql`RELEASE SAVEPOINT cockroach_restart`);
              return value;
            } catch (error) {
              if (!isSerializationFailure(error) || attempts >= settings.maxAttempts) throw error;
              committing = false;
              db.transactionStats.recordRetry(name);
              await tx.execute(sql`ROLLBACK TO SAVEPOINT cockroach_restart`);
              await sleep(backoffDelay(settings, attempts));
            }
          }
        },
        { isolationLevel: 'serializable' },
      );
      db.transactionStats.recordCommit(name);
      return result;
    } catch (error) {
      if (isSerializationFailure(error) && attempts < settings.maxAttempts) {
        db.transactionStats.recordRetry(name);
        await sleep(backoffDelay(settings, attempts));
        continue;
      }
      db.transactionStats.recordFailure(name);
      if (sqlState(error) === STATEMENT_COMPLETION_UNKNOWN || (committing && isConnectionFailure(error))) {
        throw new AmbiguousCommitError(name, { cause: error });
      }
      if (isSerializationFailure(error)) throw new TransactionRetriesExhaustedError(name, attempts, { cause: error });
      throw error;
    }
  }
}

export function isSerializationFailure(error: unknown): boolean {
  return sqlState(error) === SERIALIZATION_FAILURE;
}

/** The connection, not the statement, failed: no SQLSTATE at all, or class 08 (connection exception). */
function isConnectionFailure(error: unknown): boolean {
  const state = sqlState(error);
  return state === undefined || state.startsWith('08');
}

/** Full jitter: a random delay up to the capped exponential bound, so retries spread out. */
export function backoffDelay(settings: Pick<TransactionSettings, 'baseDelayMs' | 'maxDelayMs'>, attempt: number): number {
  const bound = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** attempt);
  return Math.random() * bound;
}
