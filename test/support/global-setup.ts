// Runs once per test run: builds a migrated PGlite data directory that every test file copies
// (a fresh PGlite takes seconds, a copied directory opens in well under one), and checks that
// the PostgreSQL server named by MOVR_TEST_DATABASE_URL (and the Redis of MOVR_TEST_REDIS_URL or
// MOVR_REDIS_URL) is reachable.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/db/connect.ts';
import { migrate } from '../../src/db/migrate.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplateDir: string;
    postgresUrl: string | undefined;
    redisUrl: string | undefined;
    runId: string;
  }
}

export default async function setup(project: TestProject) {
  const runId = `${Date.now().toString(36)}${process.pid.toString(36)}`;
  const root = mkdtempSync(path.join(tmpdir(), 'movr-test-'));
  const templateDir = path.join(root, 'template');
  const template = await openDatabase(`pglite:${templateDir}`);
  await migrate(template);
  await template.close();

  const postgresUrl = process.env.MOVR_TEST_DATABASE_URL || undefined;
  if (postgresUrl) {
    const client = new pg.Client({ connectionString: postgresUrl });
    try {
      await client.connect();
      await client.end();
    } catch (error) {
      throw new Error(`MOVR_TEST_DATABASE_URL is set but the server is unreachable: ${(error as Error).message}`);
    }
  } else if (process.env.MOVR_REQUIRE_POSTGRES === '1') {
    throw new Error('MOVR_REQUIRE_POSTGRES=1 but MOVR_TEST_DATABASE_URL is not set');
  }

  // Redis for the tests of the shared log-in limiter: MOVR_TEST_REDIS_URL, or MOVR_REDIS_URL.
  const redisUrl = process.env.MOVR_TEST_REDIS_URL || process.env.MOVR_REDIS_URL || undefined;
  if (redisUrl) {
    const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping();
    } catch (error) {
      throw new Error(`The test Redis (${redisUrl}) is unreachable: ${(error as Error).message}`);
    } finally {
      client.disconnect();
    }
  } else if (process.env.MOVR_REQUIRE_REDIS === '1') {
    throw new Error('MOVR_REQUIRE_REDIS=1 but neither MOVR_TEST_REDIS_URL nor MOVR_REDIS_URL is set');
  }
  project.provide('redisUrl', redisUrl);

  project.provide('pgliteTemplateDir', templateDir);
  project.provide('postgresUrl', postgresUrl);
  project.provide('runId', runId);

  return async () => {
    rmSync(root, { recursive: true, force: true });
    if (postgresUrl) await dropDatabasesOfRun(postgresUrl, runId);
  };
}

/** Drops any database this run created and a failed test file left behind; no other. */
async function dropDatabasesOfRun(url: string, runId: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE datname LIKE $1',
      [`movr_test_${runId}_%`],
    );
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
