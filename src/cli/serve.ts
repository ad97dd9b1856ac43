// `movr serve`: the web server. On the embedded database the first start creates, migrates and
// fills the database; a server database must be migrated already.
import { Command } from 'commander';
import type { Config } from '../config.ts';
import type { Database } from '../db/connect.ts';
import { checkInstanceRegion } from '../db/instance-region.ts';
import { migrate } from '../db/migrate.ts';
import type { RegionMap } from '../region-map.ts';
import { type RunningServer, startServer } from '../web/server.ts';
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
  const db = await context.open();
  try {
    if (db.kind === 'pglite') await prepareEmbedded(context, db, config.regionMap);
    else await assertMigrated(db);
  } catch (error) {
    await db.close();
    throw error;
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
async function listen(config: Config, db: Database): Promise<RunningServer> {
  try {
    return await startServer({ config, db });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(`port ${config.port} on ${config.host} is in use: set PORT to a free port (or HOST to another interface)`);
    }
    throw error;
  }
}
