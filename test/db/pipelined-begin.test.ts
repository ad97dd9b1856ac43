// BEGIN riding with a transaction's first statement (src/db/pipelined-begin.ts) on PostgreSQL:
// the statement runs inside the transaction, at SERIALIZABLE, with no BEGIN of its own; a failure
// of either leaves the connection usable; a connection that lost its prepared BEGIN is replaced.
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { beforeEach, expect, it } from 'vitest';
import type { Transaction } from '../../src/db/connect.ts';
import { leanRows, leanStatement } from '../../src/db/lean.ts';
import { BEGIN } from '../../src/db/pipelined-begin.ts';
import { runTransaction } from '../../src/db/transaction.ts';
import { describeEachDatabase } from '../support/databases.ts';

/** What node-postgres clients were asked to send while `work` ran: each query's text, and BEGIN riding along. */
async function sent<T>(work: () => Promise<T>): Promise<{ result: T; texts: string[] }> {
  const texts: string[] = [];
  const prototype = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = prototype.query;
  prototype.query = function (this: unknown, ...args: unknown[]) {
    const query = args[0] as { text?: string; begins?: string } | string;
    if (typeof query === 'string') texts.push(query);
    else {
      if (query.begins) texts.push(`${query.begins} +`);
      if (typeof query.text === 'string') texts.push(query.text);
    }
    return original.apply(this, args);
  };
  try {
    return { result: await work(), texts };
  } finally {
    prototype.query = original;
  }
}

const txid = (tx: Transaction) => tx.execute<{ id: string }>(sql`SELECT txid_current()::text AS id`).then((r) => r.rows[0]?.id);

const isolationLean = leanStatement(
  'movr_test_isolation',
  (db) => db.select({ level: sql<string>`current_setting('transaction_isolation')` }).from(sql`(SELECT 1) AS one`),
  ([level]) => level,
);

describeEachDatabase(
  'BEGIN with the first statement',
  (t) => {
    beforeEach(async () => {
      await t.db.execute('CREATE TABLE IF NOT EXISTS begin_events (id INT PRIMARY KEY)');
      await t.db.execute('DELETE FROM begin_events');
      // The connection's first transaction prepares movr_begin; the tests look at the ones after.
      await runTransaction(t.db, 'warm', (tx) => tx.execute(sql`SELECT 1`));
    });

    it('sends BEGIN with the first statement, which runs in the transaction at SERIALIZABLE', async () => {
      const { result, texts } = await sent(() =>
        runTransaction(t.db, 'pipelined', async (tx) => {
          const level = (await tx.execute<{ level: string }>(sql`SELECT current_setting('transaction_isolation') AS level`)).rows[0]?.level;
          const first = await txid(tx);
          const second = await txid(tx);
          return { level, first, second };
        }),
      );
      expect(result.level).toBe('serializable');
      expect(result.first).toBe(result.second);
      expect(texts.filter((text) => text === BEGIN)).toEqual([]);
      expect(texts[0]).toBe(`${BEGIN} +`);
      expect(texts.at(-1)).toBe('COMMIT');
    });

    it('rolls the first statement back with the rest', async () => {
      await expect(
        runTransaction(t.db, 'atomic', async (tx) => {
          await tx.execute(sql`INSERT INTO begin_events (id) VALUES (1)`);
          await tx.execute(sql`INSERT INTO begin_events (id) VALUES (1)`);
        }),
      ).rejects.toMatchObject({ cause: { code: '23505' } });
      expect(await t.db.execute('SELECT id FROM begin_events')).toEqual([]);
    });

    it('reports a failing first statement as itself and leaves the connection usable, prepared or not', async () => {
      for (let round = 0; round < 2; round++) {
        const broken = runTransaction(t.db, 'broken', (tx) => tx.select({ n: sql`1` }).from(sql`no_such_table`).prepare('movr_test_broken').execute());
        await expect(broken).rejects.toMatchObject({ cause: { code: '42P01' } });
        const plain = runTransaction(t.db, 'broken_plain', (tx) => tx.execute(sql`SELECT * FROM no_such_table`));
        await expect(plain).rejects.toMatchObject({ cause: { code: '42P01' } });
      }
      await runTransaction(t.db, 'after', (tx) => tx.execute(sql`INSERT INTO begin_events (id) VALUES (2)`));
      expect(await t.db.execute('SELECT id FROM begin_events')).toEqual([{ id: 2 }]);
    });

    it('runs a lean first statement inside the transaction too', async () => {
      const level = await runTransaction(t.db, 'lean_first', (tx) => leanRows(tx, isolationLean, {}));
      expect(level).toEqual(['serializable']);
    });

    it('sends nothing for work that sends no statement', async () => {
      const { result, texts } = await sent(() => runTransaction(t.db, 'nothing', async () => 'done'));
      expect(result).toBe('done');
      expect(texts).toEqual([]);
    });

    it('replaces a connection whose prepared BEGIN is gone, and the transaction still commits', async () => {
      const before = t.db.transactionStats.get('after_deallocate').reconnects;
      await runTransaction(t.db, 'deallocate', (tx) => tx.execute(sql`DEALLOCATE movr_begin`));
      await runTransaction(t.db, 'after_deallocate', (tx) => tx.execute(sql`INSERT INTO begin_events (id) VALUES (3)`));
      expect(await t.db.execute('SELECT id FROM begin_events')).toEqual([{ id: 3 }]);
      expect(t.db.transactionStats.get('after_deallocate').reconnects - before).toBe(1);
    });
  },
  { kinds: ['postgres'], open: { poolSize: 1 } },
);
