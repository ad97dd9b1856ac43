// `movr workload init`: loads the MovR data set, with the CockroachDB movr workload's defaults.
import { Command, Option } from 'commander';
import { migrate } from '../db/migrate.ts';
import { DEFAULT_INIT_OPTIONS, DEMO_INIT_OPTIONS, type InitOptions, type InitResult, initWorkload } from '../workload/init.ts';
import { terminalProgress } from '../workload/progress.ts';
import {
  type CliContext,
  UsageError,
  currentHour,
  dbOption,
  printDemoAccounts,
  wholeNumberOption,
  withDatabase,
} from './common.ts';

/** The sizes of the data set and its seed, as the flags give them. */
type Counts = Pick<InitOptions, 'seed' | 'numUsers' | 'numVehicles' | 'numRides' | 'numHistories' | 'numPromoCodes'>;

interface InitFlags extends Counts {
  db?: string;
  baseTime?: Date;
  drop?: boolean;
  demo?: boolean;
}

/** With --demo, the demo set's counts where the flags were left at their defaults. */
function demoFlags(flags: InitFlags, command: Command): InitFlags & Pick<InitOptions, 'minAvailablePerCity' | 'demoRidesPerAccount'> {
  if (!flags.demo) return flags;
  const counts = (['seed', 'numUsers', 'numVehicles', 'numRides', 'numHistories', 'numPromoCodes'] as const).filter(
    (name) => command.getOptionValueSource(name) === 'default',
  );
  return {
    ...flags,
    ...Object.fromEntries(counts.map((name) => [name, DEMO_INIT_OPTIONS[name]])),
    minAvailablePerCity: DEMO_INIT_OPTIONS.minAvailablePerCity,
    demoRidesPerAccount: DEMO_INIT_OPTIONS.demoRidesPerAccount,
  };
}

export function workloadInitCommand(context: CliContext): Command {
  const d = DEFAULT_INIT_OPTIONS;
  return new Command('init')
    .summary('Load the MovR data set')
    .description(
      'Load the MovR data set; refuses a database that already holds MovR data unless --drop ' +
        '(exit code 1 with the fix)',
    )
    .addOption(dbOption('Database (default: DATABASE_URL, else the embedded database)'))
    .addOption(wholeNumberOption('--seed <n>', 'Random seed', d.seed))
    .addOption(wholeNumberOption('--num-users <n>', 'Users', d.numUsers))
    .addOption(wholeNumberOption('--num-vehicles <n>', 'Vehicles', d.numVehicles))
    .addOption(wholeNumberOption('--num-rides <n>', 'Rides', d.numRides))
    .addOption(wholeNumberOption('--num-histories <n>', 'Vehicle location history points', d.numHistories))
    .addOption(wholeNumberOption('--num-promo-codes <n>', 'Promo codes', d.numPromoCodes))
    .addOption(
      new Option('--base-time <iso>', 'Time the data set is generated relative to (default: this hour)').argParser(isoDate),
    )
    .option('--drop', 'Replace any MovR data already in the database')
    .option(
      '--demo',
      `The richer demo set of the embedded first start: ${DEMO_INIT_OPTIONS.numUsers} users and ${DEMO_INIT_OPTIONS.numVehicles} vehicles unless given, ` +
        `at least ${DEMO_INIT_OPTIONS.minAvailablePerCity} available vehicles per city, ${DEMO_INIT_OPTIONS.demoRidesPerAccount} ended rides per demo account`,
    )
    .action((flags: InitFlags, command: Command) => workloadInit(context, demoFlags(flags, command)));
}

function isoDate(value: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new UsageError(`--base-time must be an ISO date, got "${value}"`);
  return date;
}

function initOptions(flags: InitFlags, context: CliContext): Omit<InitOptions, 'demoPasswords'> {
  const { db: _, baseTime, drop, demo: _demo, ...counts } = flags;
  return { ...counts, drop: drop === true, baseTime: baseTime ?? currentHour(), regions: context.config().regionMap };
}

async function workloadInit(context: CliContext, flags: InitFlags): Promise<void> {
  const options = initOptions(flags, context);
  await withDatabase(context, flags.db, async (db) => {
    await migrate(db);
    // The embedded demo keeps well-known passwords; a shared server gets fresh random ones.
    // A database that holds MovR data already is a MovrDataExistsError that says to pass --drop.
    const progress = terminalProgress(process.stderr);
    const result = await initWorkload(db, {
      ...options,
      demoPasswords: db.kind === 'pglite' ? 'fixed' : 'random',
      progress: progress.update,
    }).finally(() => progress.finish());
    printLoaded(context, db.displayUrl, result);
  });
}

function printLoaded(context: CliContext, where: string, result: InitResult): void {
  const perTable = Object.entries(result.rows)
    .map(([table, rows]) => `${table} ${rows}`)
    .join(', ');
  context.out(
    `Loaded ${result.totalRows} rows into ${where} in ${result.seconds.toFixed(1)} s ` +
      `(${Math.round(result.rowsPerSecond)} rows/s): ${perTable}\n`,
  );
  printDemoAccounts(context, result);
}
