// What a long-running server must clear away: idempotency keys, API tokens and sessions past their expiry.
// A batch at a time, each batch its own short transaction on an expires_at index, so purging a
// large backlog never holds locks for long or blocks requests.
import { lte, sql } from 'drizzle-orm';
import { type AnyPgColumn, type PgTable, getTableConfig } from 'drizzle-orm/pg-core';
import type { Database } from '../db/connect.ts';
import { apiTokens, idempotencyKeys, sessions } from '../db/schema.ts';
import { runTransaction } from '../db/transaction.ts';

export interface PurgeOptions {
  now?: Date;
  /** Rows per batch (default 500). */
  batchSize?: number;
  /** Stop after this many batches, to bound one run's time (default 20). */
  maxBatches?: number;
}

export interface PurgeResult {
  idempotencyKeys: number;
  apiTokens: number;
  sessions: number;
}

/** Deletes expired idempotency keys, API tokens and sessions, in batches; returns how many of each. */
export async function purgeExpired(db: Database, options: PurgeOptions = {}): Promise<PurgeResult> {
  const settings = { now: options.now ?? new Date(), batchSize: options.batchSize ?? 500, maxBatches: options.maxBatches ?? 20 };
  return {
    idempotencyKeys: await purgeTable(db, 'purge_idempotency_keys', idempotencyKeys, idempotencyKeys.expiresAt, settings),
    apiTokens: await purgeTable(db, 'purge_api_tokens', apiTokens, apiTokens.expiresAt, settings),
    sessions: await purgeTable(db, 'purge_sessions', sessions, sessions.expiresAt, settings),
  };
}

/** Deletes a table's rows whose expiresAt has passed, a batch (by primary key) per transaction. */
async function purgeTable(
  db: Database,
  name: string,
  table: PgTable,
  expiresAt: AnyPgColumn,
  { now, batchSize, maxBatches }: Required<PurgeOptions>,
): Promise<number> {
  const key = sql.join(
    (getTableConfig(table).primaryKeys[0]?.columns ?? []).map((column) => sql.identifier(column.name)),
    sql`, `,
  );
  let total = 0;
  for (let batch = 0; batch < maxBatches; batch++) {
    const deleted = await runTransaction(db, name, async (tx) => {
      const { rows } = await tx.execute(
        sql`DELETE FROM ${table} WHERE (${key}) IN (SELECT ${key} FROM ${table} WHERE ${lte(expiresAt, now)} LIMIT ${batchSize}) RETURNING 1 AS deleted`,
      );
      return rows.length;
    });
    total += deleted;
    if (deleted < batchSize) break;
  }
  return total;
}
