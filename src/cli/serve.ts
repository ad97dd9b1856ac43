// `movr serve`: the web server. On the embedded database the first start creates, migrates and
// fills the database; a server database must be migrated already.
import { Command } from 'commander';
import type { Config } from '../config.ts';
import type { Database } from '../db/connect.ts';
import { checkInstanceRegion } from '../db/instance-region.ts';
import { migrate } from '../db/migrate.ts';
import type { RegionMap } from '../region-map.ts';
import { isClusterWorker, poolPerWorker, reportListening, runPrimary, workerId } from '../web/cluster.ts';
import { type RunningServer, type StartServerOptions, startServer } from '../web/server.ts';
import { DEFAULT_INIT_OPTIONS, MovrDataExistsError, initWorkload } from '../workload/init.ts';
import { type CliContext, assertMigrated, currentHour, printDemoAccounts } from './common.ts';

export function serveCommand(context: CliContext): Command {
  return new Command('serve')
    .summary('Start the MovR web server (on first run, create the embedded database)')
    .description(
      'Start the MovR web server. On the embedded database it creates and migrates the database and ' +
        'loads the demo data set on first run; SIGTERM or Ctrl-C shuts it down gracefully',
    )
    .action(() => serve(context));
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
  const db = await context.open();
  try {
    if (db.kind === 'pglite') await prepareEmbedded(context, db, config.regionMap);
    else await assertMigrated(db);
  } catch (error) {
    await db.close();
    throw error;
  }
  if (db.kind !== 'pglite' && config.workers > 1) {
    const regionWarning = await checkInstanceRegion(db, config.region);
    await db.close();
    if (regionWarning) context.err(`movr: ${regionWarning}\n`);
    const url = await runPrimary(config, config.workers);
    context.out(`MovR is running at ${url} (${config.workers} worker processes)\n`);
    return;
  }
  const server = await listen(config, db);
  const regionWarning = await checkInstanceRegion(db, config.region);
  if (regionWarning) server.app.log.warn(regionWarning);
  context.out(`MovR is running at ${server.url}\n`);
}

/** Migrates the embedded database; on its first start, loads the data set with the demo accounts. */
async function prepareEmbedded(context: CliContext, db: Database, regions: RegionMap): Promise<void> {
  await migrate(db);
  const result = await initWorkload(db, {
    ...DEFAULT_INIT_OPTIONS,
    regions,
    drop: false,
    baseTime: currentHour(),
    demoPasswords: 'fixed',
  }).catch((error: unknown) => {
    if (error instanceof MovrDataExistsError) return undefined; // not the first start
    throw error;
  });
  if (!result) return;
  context.out(`Created the embedded database in ${db.displayUrl.slice('pglite:'.length)}\n`);
  printDemoAccounts(context, result);
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
