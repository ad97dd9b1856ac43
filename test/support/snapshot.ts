// "Did anything change?": every row of every MovR table, to compare before and after, and small
// questions to the database (one row, one count).
import type { Database } from '../../src/db/connect.ts';
import { TABLE_NAMES_CHILDREN_FIRST } from '../../src/db/schema.ts';

/**
 * Every row of every MovR table as JSON text, sorted, per table, in one round trip. Equal
 * snapshots, equal data; a differing one shows which rows changed.
 */
export async function snapshot(db: Database): Promise<Record<string, string[]>> {
  const parts = TABLE_NAMES_CHILDREN_FIRST.map(
    (table) =>
      `SELECT '${table}' AS t, (SELECT coalesce(json_agg(r ORDER BY r), '[]') FROM (SELECT to_jsonb(x)::text AS r FROM ${table} x) s) AS rows`,
  );
  const rows = await db.execute(parts.join(' UNION ALL '));
  const byTable = new Map(rows.map((row) => [String(row.t), row.rows as string[]]));
  return Object.fromEntries(TABLE_NAMES_CHILDREN_FIRST.map((table) => [table, byTable.get(table) ?? []]));
}

/** The first row a query answers, or undefined. */
export async function queryOne(db: Database, sqlText: string, params: unknown[] = []): Promise<Record<string, unknown> | undefined> {
  const rows = await db.execute(sqlText, params);
  return rows[0];
}

/** The number in column `n` of a query's first row. */
export async function countRows(db: Database, sqlText: string, params: unknown[] = []): Promise<number> {
  return Number((await queryOne(db, sqlText, params))?.n);
}
