// The `movr` command. Each subcommand parses its flags, opens the database it needs, and leaves
// the work to the db, domain, web and workload modules.
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { type Config, loadConfig } from './config.ts';
import { type Database, openDatabase } from './db/connect.ts';
import { migrate, pendingMigrations } from './db/migrate.ts';
import { REGIONS_USAGE, checkInstanceRegion, regionsCommand } from './db/regions.ts';
import { startServer } from './web/server.ts';
import {
  DEFAULT_INIT_OPTIONS,
  type InitOptions,
  type InitResult,
  initWorkload,
  MovrDataExistsError,
} from './workload/init.ts';
import { checkInvariants, formatCheck } from './workload/check.ts';
import { DirectTarget } from './workload/direct-target.ts';
import { HttpTarget } from './workload/http-target.ts';
import {
  DEFAULT_MIX,
  DEFAULT_READ_PERCENT,
  DEFAULT_WRITE_WEIGHTS,
  MixError,
  WRITE_OPERATIONS,
  parseCities,
  parseDuration,
  parseWeights,
  validateMix,
} from './workload/mix.ts';
import { terminalProgress } from './workload/progress.ts';
import { JsonReport, intervalPrinter } from './workload/report.ts';
import { DEFAULT_RUN_OPTIONS, type RunOptions, runWorkload } from './workload/run.ts';
import { formatSummary } from './workload/stats.ts';
import type { WorkloadTarget } from './workload/target.ts';

const USAGE = `Usage: movr <command> [options]

Commands:
  serve                  Start the MovR web server. On the embedded database it creates and
                         migrates the database and loads the demo data set on first run.
  db migrate             Apply pending schema migrations (safe to run again).
  db status              List pending schema migrations.
  db regions             Geo-partition a CockroachDB database by the region map (--print or --apply).
  workload init          Load the MovR data set (options below).
  workload run           Run a mix of MovR reads and writes and report throughput and latency.
  workload check         Check the invariants of the data; exit code 1 if any fails.
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

workload run options (see docs/workload.md):
  --db <url>             Database to run against directly (default: DATABASE_URL)
  --target <url>         Drive a running MovR server's JSON API instead, e.g. http://127.0.0.1:8080
  --duration <d>         How long: 30s, 5m, 1h; 0 runs until Ctrl-C (default 60s)
  --concurrency <n>      Workers (default ${DEFAULT_RUN_OPTIONS.concurrency}); the pool gets at least as many connections
  --max-rate <ops/s>     Cap on operations per second of all workers; 0 = no cap (default 0)
  --ramp <d>             Start the workers spread over this time (default 0s)
  --seed <n>             Random seed (default ${DEFAULT_RUN_OPTIONS.seed})
  --read-percent <p>     Percent of operations that are reads (default ${DEFAULT_READ_PERCENT})
  --weights <list>       Write weights, e.g. start_ride=0.5,end_ride=0.2 (defaults:
                         ${WRITE_OPERATIONS.map((op) => `${op}=${DEFAULT_WRITE_WEIGHTS[op]}`).join(',')})
  --cities <list>        Cities and regions to use, e.g. paris,us-west1 (default: all)
  --riders-per-worker <n>
                         Riders each worker owns (default ${DEFAULT_RUN_OPTIONS.ridersPerWorker})
  --json <file>          Write the per-second series and the summary as JSON
  --no-check             Do not check the invariants at the end

workload check options:
  --db <url>             Database (default: DATABASE_URL)

${REGIONS_USAGE}

Configuration comes from the environment and a .env file: see the README.`;

/** A mistake in how the command was called: printed with a hint, exit code 2. */
class UsageError extends Error {}

type Command = (args: string[]) => Promise<void>;

const commands: Record<string, Command> = {
  serve,
  'db migrate': dbMigrate,
  'db status': dbStatus,
  'db regions': async (args) => {
    const config = loadConfig();
    process.exitCode = await regionsCommand(args, { config, open: (url) => openConfigured(config, url) });
  },
  'workload init': workloadInit,
  'workload run': workloadRun,
  'workload check': workloadCheck,
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
        regions: config.regionMap,
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
  const regionWarning = await checkInstanceRegion(db, config.region);
  if (regionWarning) server.app.log.warn(regionWarning);
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
  const config = loadConfig();
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
    regions: config.regionMap,
  };

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

function wholeNumber(flag: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < min) {
    throw new UsageError(`--${flag} must be a whole number${min > 0 ? ` ≥ ${min}` : ''}, got "${value}"`);
  }
  return Number(value);
}

function decimalNumber(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+(\.\d+)?$/.test(value.trim())) throw new UsageError(`--${flag} must be a number ≥ 0, got "${value}"`);
  return Number(value);
}

function usageOnMixError<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof MixError) throw new UsageError(error.message);
    throw error;
  }
}

async function workloadRun(args: string[]): Promise<void> {
  const flags = parseFlags(args, {
    db: { type: 'string' },
    target: { type: 'string' },
    duration: { type: 'string' },
    concurrency: { type: 'string' },
    'max-rate': { type: 'string' },
    ramp: { type: 'string' },
    seed: { type: 'string' },
    'read-percent': { type: 'string' },
    weights: { type: 'string' },
    cities: { type: 'string' },
    'riders-per-worker': { type: 'string' },
    json: { type: 'string' },
    'no-check': { type: 'boolean', default: false },
  });
  // Loading the configuration activates the region map that --cities is read against.
  const config = loadConfig();
  const options: RunOptions = usageOnMixError(() => ({
    durationMs: flags.duration === undefined ? DEFAULT_RUN_OPTIONS.durationMs : parseDuration(flags.duration),
    concurrency: wholeNumber('concurrency', flags.concurrency, DEFAULT_RUN_OPTIONS.concurrency, 1),
    maxRate: decimalNumber('max-rate', flags['max-rate'], DEFAULT_RUN_OPTIONS.maxRate),
    rampMs: flags.ramp === undefined ? DEFAULT_RUN_OPTIONS.rampMs : parseDuration(flags.ramp, '--ramp'),
    seed: wholeNumber('seed', flags.seed, DEFAULT_RUN_OPTIONS.seed),
    mix: validateMix({
      readPercent: decimalNumber('read-percent', flags['read-percent'], DEFAULT_MIX.readPercent),
      weights: flags.weights === undefined ? DEFAULT_MIX.weights : parseWeights(flags.weights),
    }),
    cities: parseCities(flags.cities, config.regionMap),
    ridersPerWorker: wholeNumber('riders-per-worker', flags['riders-per-worker'], DEFAULT_RUN_OPTIONS.ridersPerWorker, 1),
  }));
  let http: HttpTarget | undefined;
  try {
    http = flags.target === undefined ? undefined : new HttpTarget(flags.target, { regions: config.regionMap, connections: options.concurrency });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  // Over HTTP the server's database is only opened (for the check) when --db names it.
  const checkUrl = http ? flags.db : (flags.db ?? config.databaseUrl);
  const db =
    checkUrl === undefined
      ? undefined
      : await openDatabase(checkUrl, {
          // At least a connection per worker, so workers never queue for the pool.
          poolSize: Math.max(config.poolSize, options.concurrency),
          transactionMaxAttempts: config.transactionMaxAttempts,
          applicationName: 'movr workload',
        });
  if (!http && db) {
    // The transactions need MovR's own tables (receipts, credentials) beside the workload's six.
    const pending = await pendingMigrations(db).catch(async (error: unknown) => {
      await db.close();
      throw error;
    });
    if (pending.length > 0) {
      await db.close();
      throw new Error(`the database at ${db.displayUrl} has ${pending.length} pending migration statements: run "movr db migrate" first`);
    }
  }
  const target: WorkloadTarget = http ?? new DirectTarget(db!, { regions: config.regionMap, priceList: config.priceList });

  const out = (text: string) => process.stdout.write(text);
  const report = flags.json === undefined ? undefined : new JsonReport(flags.json);
  const printInterval = intervalPrinter(out);
  const stop = new AbortController();
  const onSignal = () => {
    if (stop.signal.aborted) {
      process.stderr.write('movr: stopped\n');
      process.exit(130);
    }
    process.stderr.write('\nmovr: stopping (Ctrl-C again to quit at once)\n');
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    out(
      `Running against ${target.description}: ${options.concurrency} workers, ` +
        `${options.durationMs > 0 ? `${options.durationMs / 1000} s` : 'until Ctrl-C'}` +
        `${options.maxRate > 0 ? `, at most ${options.maxRate} ops/s` : ''}, cities: ${options.cities.join(', ')}\n`,
    );
    for (const [op, reason] of target.unsupported) out(`${op} is left out: ${reason}\n`);
    const result = await runWorkload(target, {
      ...options,
      signal: stop.signal,
      onStatus: (message) => process.stderr.write(`${message}\n`),
      onInterval: (rows) => {
        printInterval(rows);
        report?.interval(rows);
      },
    });
    out(`\n${formatSummary(result.summary)}\n`);
    const mix = Object.entries(result.probabilities)
      .filter(([, p]) => p > 0)
      .map(([op, p]) => `${op} ${(p * 100).toFixed(p < 0.01 ? 2 : 1)}%`)
      .join(', ');
    out(`mix: ${mix}\n`);
    if (result.abandoned > 0) out(`${result.abandoned} operations were still running at the end and are not counted\n`);
    if ((result.summary.total.errorsByKind.rate_limited ?? 0) > 0) {
      out(
        'note: the server refused requests with 429, its per-client API rate limit: start it with ' +
          'MOVR_API_RATE_LIMIT=0 to measure the stack rather than the limit\n',
      );
    }
    report?.finish(result.summary, {
      target: target.description,
      ...options,
      mix: options.mix,
      probabilities: result.probabilities,
      leftOut: result.leftOut,
      stoppedBy: result.stoppedBy,
    });
    if (report) out(`wrote ${report.path}\n`);
    if (flags['no-check']) return;
    if (!db) {
      out('check: skipped (pass --db with the server\'s database to check it)\n');
      return;
    }
    const check = await checkInvariants(db);
    out(`\n${formatCheck(check)}\n`);
    if (!check.ok) process.exitCode = 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    report?.close();
    await target.close();
    await db?.close();
  }
}

async function workloadCheck(args: string[]): Promise<void> {
  const flags = parseFlags(args, { db: { type: 'string' } });
  const config = loadConfig();
  const db = await openConfigured(config, flags.db);
  try {
    process.stdout.write(`Checking ${db.displayUrl}\n`);
    const result = await checkInvariants(db);
    process.stdout.write(`${formatCheck(result)}\n`);
    if (!result.ok) process.exitCode = 1;
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
