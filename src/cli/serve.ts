// `movr serve`: the web server. On the embedded database the first start creates, migrates and
// fills the database; a server database must be migrated already.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import type { Config } from '../config.ts';
import { createLogger } from '../web/logging.ts';
import type { Database } from '../db/connect.ts';
import { checkInstanceRegion } from '../db/instance-region.ts';
import { migrate } from '../db/migrate.ts';
import { isClusterWorker, poolPerWorker, reportListening, runPrimary, workerId } from '../web/cluster.ts';
import { type RunningServer, type StartServerOptions, startServer } from '../web/server.ts';
import { DEMO_INIT_OPTIONS, MovrDataExistsError, initWorkload } from '../workload/init.ts';
import { type CliContext, assertMigrated, currentHour, printDemoAccounts, withDatabase } from './common.ts';

export function serveCommand(context: CliContext): Command {
  return new Command('serve')
    .summary('Start the MovR web server (on first run, create the embedded database)')
    .description(
      'Start the MovR web server. On the embedded database it creates and migrates the database and ' +
        'loads the demo data set on first run; SIGTERM or Ctrl-C shuts it down gracefully',
    )
    // Internal: the first start creates and fills the embedded database in a child process.
    .addOption(new Option('--create-only').hideHelp())
    .action((flags: { createOnly?: boolean }) => (flags.createOnly ? createOnly(context) : serve(context)));
}

/** The folder of a new embedded database at the configured URL, or undefined (a server, memory, an existing one). */
function newEmbeddedFolder(databaseUrl: string): string | undefined {
  if (!databaseUrl.startsWith('pglite:') || databaseUrl === 'pglite:memory') return undefined;
  const folder = databaseUrl.slice('pglite:'.length);
  return existsSync(path.join(folder, 'PG_VERSION')) ? undefined : folder;
}

/** `serve --create-only`: creates, migrates and fills the embedded database, then exits. */
async function createOnly(context: CliContext): Promise<void> {
  const config = context.config();
  await withDatabase(context, undefined, async (db) => {
    if (db.kind !== 'pglite') throw new Error('--create-only is for the embedded database');
    await prepareEmbedded(context, db, config);
  });
}

/**
 * The first start on the embedded database: a child process creates and fills it and exits.
 * Loading the data set grows PGlite's WebAssembly heap for good (it never shrinks, even once
 * the instance is closed); the server then opens the database as a second start would, with
 * the memory of a second start.
 */
function createInChildProcess(): Promise<void> {
  const bin = fileURLToPath(new URL('../../bin/movr.js', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, bin, 'serve', '--create-only'], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`creating the embedded database failed (${signal ?? `exit code ${code}`}): see the message above`)),
    );
  });
}

async function serve(context: CliContext): Promise<void> {
  const config = context.config();
  if (isClusterWorker()) {
    // One of several: the primary checked the database; this one serves with its share of the pool.
    const db = await context.open(undefined, { poolSize: poolPerWorker(config.poolSize, config.workers) });
    process.on('SIGINT', () => {}); // Ctrl-C reaches every process of the terminal: the primary decides.
    const server = await listen(config, db, { signals: ['SIGTERM'], housekeeping: workerId() === 1 });
    reportListening(server.url);
    return;
  }
  if (newEmbeddedFolder(config.databaseUrl) !== undefined) await createInChildProcess();
  const db = await context.open();
  try {
    if (db.kind === 'pglite') {
      await prepareEmbedded(context, db, config);
    } else {
      await assertMigrated(db);
    }
  } catch (error) {
    await db.close();
    throw error;
  }
  if (db.kind !== 'pglite' && config.workers > 1) {
    const regionWarning = await checkInstanceRegion(db, config.region);
    const where = { kind: db.kind, displayUrl: db.displayUrl };
    await db.close();
    if (regionWarning) context.err(`movr: ${regionWarning}\n`);
    const url = await runPrimary(config, config.workers, createLogger(config, { role: 'primary' }));
    const { port, host } = config.metrics;
    const metricsUrl = port === undefined ? undefined : `http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`;
    context.out(banner(config, { url, workers: config.workers, db: where, metricsUrl }));
    return;
  }
  const server = await listen(config, db);
  const regionWarning = await checkInstanceRegion(db, config.region);
  if (regionWarning) server.app.log.warn(regionWarning);
  context.out(banner(config, { url: server.url, workers: 1, db, metricsUrl: server.metricsUrl }));
}

/**
 * What `movr serve` says once it serves, once: the URL, the database, how to log in, and where
 * the metrics are.
 */
export function banner(
  config: Pick<Config, 'regionMap'>,
  where: { url: string; workers: number; db: Pick<Database, 'kind' | 'displayUrl'>; metricsUrl: string | undefined },
): string {
  const embedded = where.db.kind === 'pglite';
  const lines = [
    `MovR is running at ${where.url}${where.workers > 1 ? ` (${where.workers} worker processes)` : ''}`,
    `  database: ${where.db.displayUrl}${embedded ? ' (the embedded database)' : ` (${where.db.kind === 'cockroachdb' ? 'CockroachDB' : 'PostgreSQL'})`}`,
    '  demo accounts: npx movr demo-accounts',
    ...(where.metricsUrl ? [`  metrics: ${where.metricsUrl}`] : []),
  ];
  return `${lines.join('\n')}\n`;
}

/** Migrates the embedded database; on its first start, loads the data set with the demo accounts. */
async function prepareEmbedded(context: CliContext, db: Database, config: Config): Promise<boolean> {
  await migrate(db);
  const result = await initWorkload(db, {
    ...DEMO_INIT_OPTIONS,
    regions: config.regionMap,
    priceLists: config.priceLists,
    drop: false,
    baseTime: currentHour(),
    demoPasswords: 'fixed',
  }).catch((error: unknown) => {
    if (error instanceof MovrDataExistsError) return undefined; // not the first start
    throw error;
  });
  if (!result) return false;
  context.out(`Created the embedded database in ${db.displayUrl.slice('pglite:'.length)}\n`);
  printDemoAccounts(context, result);
  context.out('List them again at any time with: npx movr demo-accounts\n');
  return true;
}

/** Starts the server (it owns db from now on); a port in use is explained in one line. */
async function listen(config: Config, db: Database, options: Partial<StartServerOptions> = {}): Promise<RunningServer> {
  try {
    return await startServer({ ...options, config, db });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(`port ${config.port} on ${config.host} is in use: set PORT to a free port (or HOST to another interface)`);
    }
    throw error;
  }
}
