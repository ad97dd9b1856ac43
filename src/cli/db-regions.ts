// `movr db regions`: geo-partitions a CockroachDB database by the region map. --print writes the
// SQL (src/db/regions.ts) and connects to nothing; --apply runs it (src/db/regions-apply.ts).
// Exit codes: 0 done, 1 failed or refused by the database, 2 called wrongly (an option, or a
// region map the options cannot be applied to).
import { Command } from 'commander';
import type { Database } from '../db/connect.ts';
import { applyRegions, assertCockroach } from '../db/regions-apply.ts';
import {
  REGIONS_STYLES,
  type RegionsOptions,
  RegionsError,
  type RegionsStyle,
  type SurvivalGoal,
  formatRegionsScript,
  regionsStatements,
} from '../db/regions.ts';
import { type CliContext, UsageError, choiceOption, dbOption, withDatabase } from './common.ts';

const SURVIVAL_GOALS: readonly SurvivalGoal[] = ['zone', 'region'];

interface RegionsFlags {
  print?: boolean;
  apply?: boolean;
  style: RegionsStyle;
  survive: SurvivalGoal;
  primaryRegion?: string;
  database?: string;
  db?: string;
}

export function dbRegionsCommand(context: CliContext): Command {
  const command = new Command('regions')
    .summary('Geo-partition a CockroachDB database by the region map (--print or --apply)')
    .description(
      'Geo-partition a CockroachDB database by the region map: --print the SQL or --apply it ' +
        '(see docs/deploy-cockroachdb.md)',
    )
    .option('--print', 'Write the SQL that geo-partitions a MovR database (no database needed)')
    .option('--apply', 'Run it on the database, one statement at a time (safe to run again)')
    .addOption(
      choiceOption(
        '--style <style>',
        'regional-by-row (CockroachDB 21.1+) or partition-by-list (19.2 style)',
        REGIONS_STYLES,
        'regional-by-row',
      ),
    )
    .addOption(
      choiceOption('--survive <goal>', 'zone or region: what the database survives (regional-by-row)', SURVIVAL_GOALS, 'zone'),
    )
    .option('--primary-region <region>', 'Region the database is homed in (default: the first region of the region map)')
    .option('--database <name>', 'Database to alter (default: movr with --print, the connected one with --apply)')
    .addOption(dbOption('Database to apply to (default: DATABASE_URL)'));
  return command.action((flags: RegionsFlags) => {
    checkFlags(flags, command.getOptionValueSource('survive') === 'cli');
    return flags.print ? printScript(context, flags) : applyScript(context, flags);
  });
}

/** The combinations of flags that cannot work, as usage errors. */
function checkFlags(flags: RegionsFlags, surviveGiven: boolean): void {
  if (Boolean(flags.print) === Boolean(flags.apply)) throw new UsageError('movr db regions needs --print or --apply (one of them)');
  if (flags.style === 'partition-by-list' && surviveGiven) throw new UsageError('--survive applies to --style regional-by-row only');
  if (flags.database !== undefined && flags.database.trim() === '') throw new UsageError('--database must not be empty');
  if (flags.print && flags.db !== undefined) throw new UsageError('--db applies to --apply only (--print connects to nothing)');
}

/**
 * The options for a database, checked against the region map: a map they cannot be applied to
 * (an unknown primary region, region survival with fewer than 3 regions) is a usage error.
 */
function regionsOptions(context: CliContext, flags: RegionsFlags, database: string): RegionsOptions {
  const options: RegionsOptions = {
    map: context.config().regionMap,
    database,
    style: flags.style,
    survive: flags.survive,
    ...(flags.primaryRegion === undefined ? {} : { primaryRegion: flags.primaryRegion }),
  };
  try {
    regionsStatements(options);
  } catch (error) {
    if (error instanceof RegionsError) throw new UsageError(error.message);
    throw error;
  }
  return options;
}

async function printScript(context: CliContext, flags: RegionsFlags): Promise<void> {
  context.out(formatRegionsScript(regionsOptions(context, flags, flags.database ?? 'movr')));
}

function applyScript(context: CliContext, flags: RegionsFlags): Promise<void> {
  return withDatabase(context, flags.db, async (db) => {
    assertCockroach(db);
    const options = regionsOptions(context, flags, await connectedDatabase(db, flags.database));
    context.out(
      `Geo-partitioning ${options.database} at ${db.displayUrl} (${options.style}` +
        `${options.style === 'regional-by-row' ? `, survive ${options.survive} failure` : ''})\n`,
    );
    const report = await applyRegions(db, options, (line) => context.out(`${line}\n`));
    context.out(`Done: ${report.applied} statements applied, ${report.alreadyDone} already done.\n`);
  });
}

/** The database of the connection; --database, if given, must name it. */
async function connectedDatabase(db: Database, wanted: string | undefined): Promise<string> {
  const current = String((await db.execute('SELECT current_database() AS name'))[0]?.name ?? '');
  if (wanted !== undefined && wanted !== current) {
    throw new UsageError(
      `--database ${wanted} is not the database of the connection (${current}): put it in the URL (--db .../${wanted})`,
    );
  }
  return current;
}
