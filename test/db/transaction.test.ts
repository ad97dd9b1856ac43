import { sql } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import { AmbiguousCommitError, TransactionRetriesExhaustedError } from '../../src/db/errors.ts';
import type { Transaction } from '../../src/db/connect.ts';
import { backoffDelay, runTransaction } from '../../src/db/transaction.ts';
import { describeEachDatabase } from '../support/databases.ts';

/** Makes the database itself raise an error with the given SQLSTATE, as a conflict would. */
async function raiseSqlState(tx: Transaction, state: string): Promise<never> {
  await tx.execute(sql.raw(`DO $$ BEGIN RAISE EXCEPTION 'raised by test' USING ERRCODE = '${state}'; END $$`));
  throw new Error('unreachable: the database should have raised');
}

async function countRows(tx: { execute: Transaction['execute'] }, table: string): Promise<number> {
  const result = await tx.execute<{ n: number }>(sql.raw(`SELECT count(*)::int AS n FROM ${table}`));
  return Number(result.rows[0]?.n);
}

describeEachDatabase(
  'transaction runner',
  (t) => {
    beforeEach(async () => {
      await t.db.execute('CREATE TABLE IF NOT EXISTS test_counters (id INT PRIMARY KEY, value INT NOT NULL)');
      await t.db.execute('CREATE TABLE IF NOT EXISTS test_events (id UUID PRIMARY KEY, note VARCHAR)');
      await t.db.execute('DELETE FROM test_counters');
      await t.db.execute('DELETE FROM test_events');
      await t.db.execute('INSERT INTO test_counters (id, value) VALUES (1, 0)');
    });

    it('runs every transaction at SERIALIZABLE isolation', async () => {
      for (const savepointProtocol of [false, true]) {
        const level = await runTransaction(
          t.db,
          'isolation',
          async (tx) => {
            const result = await tx.execute<{ transaction_isolation: string }>(sql`SHOW transaction_isolation`);
            return result.rows[0]?.transaction_isolation;
          },
          { savepointProtocol },
        );
        expect(level).toBe('serializable');
      }
    });

    it('commits what the callback wrote and returns its value', async () => {
      const value = await runTransaction(t.db, 'happy', async (tx) => {
        await tx.execute(sql`UPDATE test_counters SET value = value + 5 WHERE id = 1`);
        return 'done';
      });
      expect(value).toBe('done');
      expect((await t.db.execute('SELECT value FROM test_counters WHERE id = 1'))[0]?.value).toBe(5);
      expect(t.db.transactionStats.get('happy')).toEqual({ commits: 1, retries: 0, reconnects: 0, failures: 0, ambiguous: 0 });
    });

    for (const savepointProtocol of [false, true]) {
      const protocol = savepointProtocol ? 'savepoint protocol' : 'restart protocol';

      it(`re-runs the whole callback after a 40001 and keeps only the last attempt's writes (${protocol})`, async () => {
        const name = `retry-${protocol}`;
        let calls = 0;
        const result = await runTransaction(
          t.db,
          name,
          async (tx) => {
            calls++;
            await tx.execute(sql`INSERT INTO test_events (id, note) VALUES (gen_random_uuid(), ${`attempt ${calls}`})`);
            if (calls <= 2) await raiseSqlState(tx, '40001');
            return countRows(tx, 'test_events');
          },
          { savepointProtocol, baseDelayMs: 1 },
        );
        expect(calls).toBe(3);
        expect(result).toBe(1);
        const notes = await t.db.execute('SELECT note FROM test_events');
        expect(notes).toEqual([{ note: 'attempt 3' }]);
        expect(t.db.transactionStats.get(name)).toEqual({ commits: 1, retries: 2, reconnects: 0, failures: 0, ambiguous: 0 });
      });

      it(`gives up after the maximum number of attempts and commits nothing (${protocol})`, async () => {
        const name = `exhausted-${protocol}`;
        let calls = 0;
        const attempt = runTransaction(
          t.db,
          name,
          async (tx) => {
            calls++;
            await tx.execute(sql`INSERT INTO test_events (id) VALUES (gen_random_uuid())`);
            return raiseSqlState(tx, '40001');
          },
          { savepointProtocol, maxAttempts: 4, baseDelayMs: 1 },
        );
        await expect(attempt).rejects.toBeInstanceOf(TransactionRetriesExhaustedError);
        await expect(attempt).rejects.toMatchObject({ attempts: 4 });
        expect(calls).toBe(4);
        expect(await countRows(t.db.orm, 'test_events')).toBe(0);
        expect(t.db.transactionStats.get(name)).toEqual({ commits: 0, retries: 3, reconnects: 0, failures: 1, ambiguous: 0 });
      });

      it(`surfaces 40003 as an ambiguous commit and never retries it (${protocol})`, async () => {
        let calls = 0;
        const attempt = runTransaction(
          t.db,
          `ambiguous-${protocol}`,
          async (tx) => {
            calls++;
            return raiseSqlState(tx, '40003');
          },
          { savepointProtocol },
        );
        await expect(attempt).rejects.toBeInstanceOf(AmbiguousCommitError);
        expect(calls).toBe(1);
      });
    }

    it('rolls back and rethrows an application error without retrying', async () => {
      class NoBikesLeft extends Error {}
      let calls = 0;
      const attempt = runTransaction(t.db, 'app-error', async (tx) => {
        calls++;
        await tx.execute(sql`UPDATE test_counters SET value = 99 WHERE id = 1`);
        throw new NoBikesLeft('no bikes left');
      });
      await expect(attempt).rejects.toBeInstanceOf(NoBikesLeft);
      expect(calls).toBe(1);
      expect((await t.db.execute('SELECT value FROM test_counters WHERE id = 1'))[0]?.value).toBe(0);
      expect(t.db.transactionStats.get('app-error')).toEqual({ commits: 0, retries: 0, reconnects: 0, failures: 1, ambiguous: 0 });
    });

    it('applies concurrent read-modify-write transactions on one row exactly once each', async () => {
      const workers = 16;
      const name = 'contended-increment';
      await Promise.all(
        Array.from({ length: workers }, () =>
          runTransaction(
            t.db,
            name,
            async (tx) => {
              const read = await tx.execute<{ value: number }>(sql`SELECT value FROM test_counters WHERE id = 1`);
              const current = Number(read.rows[0]?.value);
              // Widen the window between read and write so the transactions really overlap.
              await new Promise((resolve) => setTimeout(resolve, 5));
              await tx.execute(sql`UPDATE test_counters SET value = ${current + 1} WHERE id = 1`);
            },
            { maxAttempts: 100, baseDelayMs: 2, maxDelayMs: 50 },
          ),
        ),
      );
      expect((await t.db.execute('SELECT value FROM test_counters WHERE id = 1'))[0]?.value).toBe(workers);
      const stats = t.db.transactionStats.get(name);
      expect(stats.commits).toBe(workers);
      expect(stats.failures).toBe(0);
      if (t.kind === 'postgres') {
        // A real server runs them in parallel: conflicts happened and were retried.
        expect(stats.retries).toBeGreaterThan(0);
      } else {
        // PGlite has one connection, so transactions queue and never conflict.
        expect(stats.retries).toBe(0);
      }
    });
  },
  { open: { poolSize: 20 } },
);

describe('backoffDelay', () => {
  it('stays within the capped exponential bound', () => {
    const settings = { baseDelayMs: 5, maxDelayMs: 200 };
    for (let attempt = 1; attempt <= 12; attempt++) {
      const bound = Math.min(200, 5 * 2 ** attempt);
      for (let i = 0; i < 200; i++) {
        const delay = backoffDelay(settings, attempt);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(bound);
      }
    }
  });

  it('is jittered rather than fixed', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay({ baseDelayMs: 10, maxDelayMs: 1000 }, 3)));
    expect(delays.size).toBeGreaterThan(40);
  });
});
