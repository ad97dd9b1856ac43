// "Did anything change?": every row of every MovR table, to compare before and after.
import type { Database } from '../../src/db/connect.ts';
import { TABLE_NAMES_CHILDREN_FIRST } from '../../src/db/schema.ts';

/** Every row of every MovR table as JSON text, sorted, per table. Equal snapshots, equal data. */
export async function snapshot(db: Database): Promise<Record<string, string[]>> {
  const result: Record<string, string[]> = {};
  for (const table of TABLE_NAMES_CHILDREN_FIRST) {
    const rows = await db.execute(`SELECT to_jsonb(t)::text AS row FROM ${table} t ORDER BY 1`);
    result[table] = rows.map((r) => String(r.row));
  }
  return result;
}

/** The number in column `n` of a query's first row. */
export async function countRows(db: Database, sqlText: string, params: unknown[] = []): Promise<number> {
  const rows = await db.execute(sqlText, params);
  return Number(rows[0]?.n);
}
