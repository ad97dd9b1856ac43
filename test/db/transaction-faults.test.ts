// The transaction runner against faults it cannot see on a healthy database: injected retry
// errors (MOVR_INJECT_RETRY_ERRORS), and connections that break before or while committing.
import { sql } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import { type Database, INJECTED_ATTEMPTS, type TransactionAttempt } from '../../src/db/connect.ts';
import { AmbiguousCommitError, DatabaseUnavailableError, isConnectionError } from '../../src/db/errors.ts';
import { TransactionStats } from '../../src/db/transaction-stats.ts';
import { runTransaction } from '../../src/db/transaction.ts';
import { describeEachDatabase } from '../support/databases.ts';

describeEachDatabase(
  'injected retry errors (MOVR_INJECT_RETRY_ERRORS)',
  (t) => {
    beforeEach(async () => {
      await t.db.execute('CREATE TABLE IF NOT EXISTS injected_events (id SERIAL PRIMARY KEY, attempt INT NOT NULL)');
      await t.db.execute('DELETE FROM injected_events');
    });

    it('fail statements of the first attempts with 40001; the work commits once, after retries', async () => {
      for (const savepointProtocol of [false, true]) {
        await t.db.execute('DELETE FROM injected_events');
        let runs = 0;
        const before = t.db.transactionStats.get(`injected-${savepointProtocol}`).retries;
        await runTransaction(
          t.db,
          `injected-${savepointProtocol}`,
          async (tx) => {
            runs++;
            await tx.execute(sql`INSERT INTO injected_events (attempt) VALUES (${runs})`);
            await tx.execute(sql`SELECT count(*) FROM injected_events`);
          },
          // Every statement of an injected attempt fails: the work gets through on attempt 4.
          { savepointProtocol, injectRetryErrors: 1 },
        );
        expect(runs, `savepoint protocol ${savepointProtocol}`).toBe(INJECTED_ATTEMPTS + 1);
        expect(t.db.transactionStats.get(`injected-${savepointProtocol}`).retries - before).toBe(INJECTED_ATTEMPTS);
        const rows = await t.db.execute('SELECT attempt FROM injected_events');
        expect(rows).toEqual([{ attempt: INJECTED_ATTEMPTS + 1 }]);
      }
    });

    it('at a fraction, make some attempts fail and every transaction still commit exactly once', async () => {
      let retried = 0;
      for (let i = 0; i < 20; i++) {
        const before = t.db.transactionStats.get('injected-fraction').retries;
        await runTransaction(
          t.db,
          'injected-fraction',
          async (tx) => {
            await tx.execute(sql`INSERT INTO injected_events (attempt) VALUES (${i})`);
          },
          { injectRetryErrors: 0.5 },
        );
        retried += t.db.transactionStats.get('injected-fraction').retries - before;
      }
      expect(retried).toBeGreaterThan(0);
      expect(await t.db.execute('SELECT count(*)::int AS n, count(DISTINCT attempt)::int AS d FROM injected_events')).toEqual([{ n: 20, d: 20 }]);
    });
  },
  { kinds: ['pglite', 'postgres'] },
);

describeEachDatabase(
  'a database opened with injected retry errors',
  (t) => {
    it('adds the injected attempts to the budget: real conflicts keep the attempts they had', async () => {
      // Every statement of the first INJECTED_ATTEMPTS attempts fails; a budget of 2 would be
      // spent by injection alone, so the database grants 2 + INJECTED_ATTEMPTS.
      let runs = 0;
      await runTransaction(t.db, 'injected-budget', async (tx) => {
        runs++;
        await tx.execute(sql`SELECT 1`);
      });
      expect(runs).toBe(INJECTED_ATTEMPTS + 1);
      expect(t.db.transactionStats.get('injected-budget').retries).toBe(INJECTED_ATTEMPTS);
    });
  },
  { kinds: ['pglite', 'postgres'], open: { injectRetryErrors: 1, transactionMaxAttempts: 2 } },
);

/**
 * A database whose connection fails on purpose, at a chosen point of each attempt: the runner's
 * decisions are about when a failure happened, which a healthy server cannot be made to show.
 */
function failingDatabase(failAt: 'work' | 'commit', failures: number): { db: Database; calls: () => number } {
  let calls = 0;
  const lost = () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
  const db = {
    kind: 'postgres',
    displayUrl: 'postgres://failing',
    transactionSettings: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 2, savepointProtocol: false, injectRetryErrors: 0 },
    transactionStats: new TransactionStats(),
    async transaction<T>(work: (tx: never) => Promise<T>, attempt: TransactionAttempt): Promise<T> {
      calls++;
      if (calls > failures) return work(undefined as never);
      if (failAt === 'work') throw lost();
      await work(undefined as never);
      attempt.beforeCommit();
      throw lost();
    },
  } as unknown as Database;
  return { db, calls: () => calls };
}

describe('connections that break', () => {
  it('before COMMIT: the transaction runs again on another connection', async () => {
    const { db, calls } = failingDatabase('work', 2);
    expect(await runTransaction(db, 'flaky', async () => 'done')).toBe('done');
    expect(calls()).toBe(3);
    expect(db.transactionStats.get('flaky')).toMatchObject({ commits: 1, reconnects: 2, failures: 0 });
  });

  it('before COMMIT on every attempt: DatabaseUnavailableError, a 503', async () => {
    const { db, calls } = failingDatabase('work', 100);
    const error = await runTransaction(db, 'down', async () => 'never').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(isConnectionError(error)).toBe(true);
    expect(calls()).toBe(4);
  });

  it('while committing: AmbiguousCommitError, never retried', async () => {
    const { db, calls } = failingDatabase('commit', 100);
    const error = await runTransaction(db, 'committing', async () => 'maybe').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AmbiguousCommitError);
    expect(calls()).toBe(1);
    expect(db.transactionStats.get('committing')).toMatchObject({ commits: 0, failures: 1, ambiguous: 1 });
  });
});
