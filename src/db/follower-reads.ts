// Reads that may be a few seconds stale, served by the nearest replica on CockroachDB.
import { type SQL, sql } from 'drizzle-orm';
import type { Database } from './connect.ts';

/**
 * The follower-read clause for a read that may be slightly stale (promo code listings):
 * `AS OF SYSTEM TIME follower_read_timestamp()` on CockroachDB when enabled (MOVR_FOLLOWER_READS=1),
 * undefined otherwise: a plain read. Only for statements outside read-write transactions.
 */
export function asOfSystemTime(db: Pick<Database, 'kind'>, enabled: boolean): SQL | undefined {
  return enabled && db.kind === 'cockroachdb' ? sql`AS OF SYSTEM TIME follower_read_timestamp()` : undefined;
}
