// The `movr` command. Each subcommand parses its flags, opens the database it needs, and leaves
// the work to the db, domain, web and workload modules.
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { type Config, loadConfig } from './config.ts';
import { type Database, openDatabase } from './db/connect.ts';
import { migrate, pendingMigrations } from './db/migrate.ts';
import { startServer } from './web/server.ts';
import {
  DEFAULT_INIT_OPTIONS,
  type InitOptions,
  type InitResult,
  initWorkload,
  MovrDataExistsError,
} from './workload/init.ts';
import { terminalProgress } from './workload/progress.ts';

const USAGE = `Usage: movr <command> [options]

Commands:
  serve                  Start the MovR web server. On the embedded database it creates and
                         migrates the database and loads the demo data set on first run.
  db migrate             Apply pending schema migrations (safe to run again).
  db status              List pending schema migrations.
  workload init          Load the MovR data set (options below).
  help                   Show this help.

workload init options:
  --db <url>             Database (default: DATABASE_URL, else the embedded database)
  --seed <n>             Random seed (default ${DEFAULT_INIT_OPTIONS.seed})
  --num-users <n>        Users (default ${DEFAULT_INIT_OPTIONS.numUsers})
  --num-vehicles <n>     Vehicles (default ${DEFAULT_INIT_OPTIONS.numVehicles})
  --num-rides <n>        Rides (default ${DEFAULT_INIT_OPTIONS.numRides})
  --num-histories <n>    Vehicle location history points (default ${DEFAULT_INIT_OPTIONS.numHistories})
  --num-promo-codes <n>  Promo codes (default ${DEFAULT_INIT_OPTIONS.numPromoCodes})
  --base-time <iso>      Time the data set is generated relative to (default: this hour)
  --drop                 Replace any MovR data already in the database

Configuration comes from the environment and a .env file: see the README.`;

/** A mistake in how the command was called: printed with a hint, exit code 2. */
class UsageError extends Error {}

type Command = (args: string[]) => Promise<void>;

const commands: Record<string, Command> = {
  serve,
  'db migrate': dbMigrate,
  'db status': dbStatus,
  'workload init': workloadInit,
  help: async () => void process.stdout.write(`${USAGE}\n`),
};

async function main(argv: string[]): Promise<void> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') return commands.help!([]);
  if (argv[0] === '--version') {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`movr ${pkg.version}\n`);
    return;
  }
  const twoWords = `${argv[0]} ${argv[1] ?? ''}`;
  if (commands[twoWords]) return commands[twoWords](argv.slice(2));
  const command = commands[argv[0] ?? ''];
  if (command) return command(argv.slice(1));
  throw new UsageError(`unknown command "${argv.slice(0, 2).join(' ')}"`);
}

function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function openConfigured(config: Config, url = config.databaseUrl): Promise<Database> {
  return openDatabase(url, { poolSize: config.poolSize, transactionMaxAttempts: config.transactionMaxAttempts });
}

async function serve(args: string[]): Promise<void> {
  parseFlags(args, {});
  const config = loadConfig();
  const db = await openConfigured(config);
  try {
    if (db.kind === 'pglite') {
      await migrate(db);
      const result = await initWorkload(db, {
        ...DEFAULT_INIT_OPTIONS,
        drop: false,
        baseTime: currentHour(),
        demoPasswords: 'fixed',
      }).catch((error: unknown) => {
        if (error instanceof MovrDataExistsError) return undefined; // not the first run
        throw error;
      });
      if (result) {
        process.stdout.write(`Created the embedded database in ${db.displayUrl.slice('pglite:'.length)}\n`);
        printDemoAccounts(result);
      }
    } else {
      const pending = await pendingMigrations(db);
      if (pending.length > 0) {
        throw new Error(
          `the database at ${db.displayUrl} has ${pending.length} pending migration statements: run "movr db migrate" first`,
        );
      }
    }
  } catch (error) {
    await db.close();
    throw error;
  }
  const server = await startServer({ config, db });
  process.stdout.write(`MovR is running at ${server.url}\n`);
}

async function dbMigrate(args: string[]): Promise<void> {
  const flags = parseFlags(args, { db: { type: 'string' } });
  const config = loadConfig();
  const db = await openConfigured(config, flags.db);
  try {
    const { applied } = await migrate(db, (s) =>
      process.stdout.write(`applying ${s.migration} (statement ${s.index + 1})\n`),
    );
    process.stdout.write(
      applied.length === 0
        ? `${db.displayUrl}: schema is up to date\n`
        : `${db.displayUrl}: applied ${applied.length} migration statements\n`,
    );
  } finally {
    await db.close();
  }
}

async function dbStatus(args: string[]): Promise<void> {
  const flags = parseFlags(args, { db: { type: 'string' } });
  const config = loadConfig();
  const db = await openConfigured(config, flags.db);
  try {
    const pending = await pendingMigrations(db);
    if (pending.length === 0) {
      process.stdout.write(`${db.displayUrl}: schema is up to date\n`);
      return;
    }
    process.stdout.write(`${db.displayUrl}: ${pending.length} pending migration statements\n`);
    for (const s of pending) process.stdout.write(`  ${s.migration} statement ${s.index + 1}\n`);
    process.exitCode = 1;
  } finally {
    await db.close();
  }
}

async function workloadInit(args: string[]): Promise<void> {
  const flags = parseFlags(args, {
    db: { type: 'string' },
    seed: { type: 'string' },
    'num-users': { type: 'string' },
    'num-vehicles': { type: 'string' },
    'num-rides': { type: 'string' },
    'num-histories': { type: 'string' },
    'num-promo-codes': { type: 'string' },
    'base-time': { type: 'string' },
    drop: { type: 'boolean', default: false },
  });
  const count = (flag: keyof typeof flags, fallback: number): number => {
    const value = flags[flag];
    if (value === undefined) return fallback;
    if (typeof value !== 'string' || !/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
      throw new UsageError(`--${flag} must be a whole number, got "${String(value)}"`);
    }
    return Number(value);
  };
  let baseTime = currentHour();
  if (flags['base-time'] !== undefined) {
    baseTime = new Date(flags['base-time']);
    if (Number.isNaN(baseTime.getTime())) throw new UsageError(`--base-time must be an ISO date, got "${flags['base-time']}"`);
  }
  const options: InitOptions = {
    seed: count('seed', DEFAULT_INIT_OPTIONS.seed),
    numUsers: count('num-users', DEFAULT_INIT_OPTIONS.numUsers),
    numVehicles: count('num-vehicles', DEFAULT_INIT_OPTIONS.numVehicles),
    numRides: count('num-rides', DEFAULT_INIT_OPTIONS.numRides),
    numHistories: count('num-histories', DEFAULT_INIT_OPTIONS.numHistories),
    numPromoCodes: count('num-promo-codes', DEFAULT_INIT_OPTIONS.numPromoCodes),
    drop: flags.drop === true,
    baseTime,
    demoPasswords: 'random',
  };

  const config = loadConfig();
  const db = await openConfigured(config, flags.db);
  const progress = terminalProgress(process.stderr);
  try {
    await migrate(db);
    // The embedded demo keeps well-known passwords; a shared server gets fresh random ones.
    const result = await initWorkload(db, {
      ...options,
      demoPasswords: db.kind === 'pglite' ? 'fixed' : 'random',
      progress: progress.update,
    });
    progress.finish();
    const perTable = Object.entries(result.rows)
      .map(([table, rows]) => `${table} ${rows}`)
      .join(', ');
    process.stdout.write(
      `Loaded ${result.totalRows} rows into ${db.displayUrl} in ${result.seconds.toFixed(1)} s ` +
        `(${Math.round(result.rowsPerSecond)} rows/s): ${perTable}\n`,
    );
    printDemoAccounts(result);
  } catch (error) {
    progress.finish();
    if (error instanceof MovrDataExistsError) throw new UsageError(error.message);
    throw error;
  } finally {
    await db.close();
  }
}

function printDemoAccounts(result: InitResult): void {
  if (result.demoAccounts.length === 0) return;
  process.stdout.write('Demo accounts (username / password):\n');
  for (const account of result.demoAccounts) {
    process.stdout.write(`  ${account.username} / ${account.password}  (${account.name}, ${account.city})\n`);
  }
}

function currentHour(): Date {
  const now = new Date();
  now.setUTCMinutes(0, 0, 0);
  return now;
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`movr: ${error.message}\nRun "movr help" for usage.\n`);
    process.exit(2);
  }
  // Expected failures (unreachable database, pending migrations) read best without a stack.
  let message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error && !message.includes(cause.message)) message += ` (${cause.message})`;
  process.stderr.write(`movr: ${message}\n`);
  process.exit(1);
}
