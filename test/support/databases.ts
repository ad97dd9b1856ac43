// The integration suite runs against every kind of database we can start here: PGlite always,
// and the real PostgreSQL server when MOVR_TEST_DATABASE_URL names one. Each describe block gets
// its own database: a copy of a migrated PGlite directory, or a uniquely named PostgreSQL
// database that is dropped afterwards.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, inject } from 'vitest';
import { type Database, type OpenOptions, openDatabase } from '../../src/db/connect.ts';
import { migrate } from '../../src/db/migrate.ts';
import { TABLE_NAMES_CHILDREN_FIRST } from '../../src/db/schema.ts';

export type TestDatabaseKind = 'pglite' | 'postgres';

const INJECT_RETRY_ERRORS = Number(process.env.MOVR_INJECT_RETRY_ERRORS ?? 0) || 0;

export interface TestDatabase {
  readonly kind: TestDatabaseKind;
  /** The open database; available inside tests and hooks. */
  readonly db: Database;
  /** A URL that opens the same database (for CLI and server processes). */
  readonly url: string;
}

/**
 * A fresh database, migrated unless `migrated: false`, and a function that removes it.
 * An unmigrated PGlite database is a new folder (slow: seconds); a migrated one is a copy.
 */
export async function createTestDatabase(
  kind: TestDatabaseKind,
  openOptions: OpenOptions & { migrated?: boolean } = {},
): Promise<{ db: Database; url: string; destroy: () => Promise<void> }> {
  // MOVR_INJECT_RETRY_ERRORS=0.2 npm test: every transaction of the suite meets injected 40001s.
  const options = { injectRetryErrors: INJECT_RETRY_ERRORS, ...openOptions };
  const migrated = options.migrated ?? true;
  if (kind === 'pglite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'movr-pglite-'));
    if (migrated) cpSync(inject('pgliteTemplateDir'), dir, { recursive: true });
    const url = `pglite:${dir}`;
    const db = await openDatabase(url, options);
    return {
      db,
      url,
      destroy: async () => {
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const serverUrl = inject('postgresUrl');
  if (!serverUrl) throw new Error('no PostgreSQL server configured (MOVR_TEST_DATABASE_URL)');
  const name = `movr_test_${inject('runId')}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const dbUrl = new URL(serverUrl);
  dbUrl.pathname = `/${name}`;
  const url = dbUrl.toString();
  const db = await openDatabase(url, options);
  if (migrated) await migrate(db);
  return {
    db,
    url,
    destroy: async () => {
      await db.close();
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
    },
  };
}

export function postgresAvailable(): boolean {
  return inject('postgresUrl') !== undefined;
}

/**
 * Declares the same suite once per database kind. Without MOVR_TEST_DATABASE_URL the
 * PostgreSQL copy is reported as skipped.
 */
export function describeEachDatabase(
  title: string,
  suite: (t: TestDatabase) => void,
  options: { kinds?: TestDatabaseKind[]; open?: OpenOptions } = {},
): void {
  for (const kind of options.kinds ?? (['pglite', 'postgres'] as const)) {
    const declare = kind === 'postgres' && !postgresAvailable() ? describe.skip : describe;
    declare(`${title} [${kind}]`, () => {
      let current: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
      const handle: TestDatabase = {
        kind,
        get db() {
          if (!current) throw new Error('test database not open yet');
          return current.db;
        },
        get url() {
          if (!current) throw new Error('test database not open yet');
          return current.url;
        },
      };
      beforeAll(async () => {
        current = await createTestDatabase(kind, options.open);
      });
      afterAll(async () => {
        await current?.destroy();
      });
      suite(handle);
    });
  }
}

/**
 * Empties every MovR table (children first), keeping the schema, and the tables in `keep`
 * (e.g. users and user_credentials, so users signed up once can be reused).
 */
export async function emptyTables(db: Database, options: { keep?: readonly string[] } = {}): Promise<void> {
  for (const table of TABLE_NAMES_CHILDREN_FIRST) {
    if (!options.keep?.includes(table)) await db.execute(`DELETE FROM ${table}`);
  }
}
