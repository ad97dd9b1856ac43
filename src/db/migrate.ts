// Applies the SQL migrations that drizzle-kit writes to src/db/migrations.
//
// Drizzle's own migrator runs all pending migrations inside one transaction; CockroachDB does
// not allow schema changes inside multi-statement transactions, so MovR runs each statement on
// its own and records it in movr_migrations right after. A run that stops half-way resumes at
// the next statement, and a second run does nothing.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Database } from './connect.ts';

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
const BREAKPOINT = '--> statement-breakpoint';

export interface MigrationStatement {
  migration: string;
  index: number;
  sql: string;
  hash: string;
}

interface Journal {
  entries: { idx: number; tag: string }[];
}

/** Every statement of every migration, in order. */
export function loadMigrations(): MigrationStatement[] {
  const journal = JSON.parse(readFileSync(new URL('meta/_journal.json', MIGRATIONS_DIR), 'utf8')) as Journal;
  const entries = [...journal.entries].sort((a, b) => a.idx - b.idx);
  return entries.flatMap(({ tag }) => {
    const text = readFileSync(new URL(`${tag}.sql`, MIGRATIONS_DIR), 'utf8');
    return text
      .split(BREAKPOINT)
      .map((chunk) => chunk.trim())
      .filter((chunk) => stripComments(chunk) !== '')
      .map((statement, index) => ({
        migration: tag,
        index,
        sql: statement,
        hash: createHash('sha256').update(statement).digest('hex').slice(0, 16),
      }));
  });
}

function stripComments(sqlText: string): string {
  return sqlText.replace(/^\s*--.*$/gm, '').trim();
}

const CREATE_LEDGER = `CREATE TABLE IF NOT EXISTS movr_migrations (
  migration VARCHAR NOT NULL,
  statement INT NOT NULL,
  hash VARCHAR NOT NULL,
  applied_at TIMESTAMP NOT NULL DEFAULT now(),
  CONSTRAINT movr_migrations_pkey PRIMARY KEY (migration, statement)
)`;

async function appliedStatements(db: Database): Promise<Set<string>> {
  await db.execute(CREATE_LEDGER);
  const rows = await db.execute('SELECT migration, statement FROM movr_migrations');
  return new Set(rows.map((row) => `${String(row.migration)}#${Number(row.statement)}`));
}

export async function pendingMigrations(db: Database): Promise<MigrationStatement[]> {
  const applied = await appliedStatements(db);
  return loadMigrations().filter((s) => !applied.has(`${s.migration}#${s.index}`));
}

export interface MigrateResult {
  applied: MigrationStatement[];
}

/** Applies every pending statement, one at a time and outside any transaction. */
export async function migrate(
  db: Database,
  onStatement: (statement: MigrationStatement) => void = () => {},
): Promise<MigrateResult> {
  const pending = await pendingMigrations(db);
  for (const statement of pending) {
    onStatement(statement);
    try {
      await db.execute(statement.sql);
    } catch (error) {
      throw new Error(
        `Migration ${statement.migration}, statement ${statement.index + 1} failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
    await db.execute('INSERT INTO movr_migrations (migration, statement, hash) VALUES ($1, $2, $3)', [
      statement.migration,
      statement.index,
      statement.hash,
    ]);
  }
  return { applied: pending };
}
