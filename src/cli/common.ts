// What the commands of `movr` share: the context they run in (configuration, database, output),
// the exit-code conventions, option parsers, and a few outputs.
import { Command, Option } from 'commander';
import { type Config, databaseOptions, loadConfig } from '../config.ts';
import { type Database, type OpenOptions, openDatabase } from '../db/connect.ts';
import { pendingMigrations } from '../db/migrate.ts';
import type { InitResult } from '../workload/init.ts';
import { MixError, parseDuration } from '../workload/mix.ts';

/** Exit codes: done; failed (the message says why and what to do); called wrongly. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A mistake in how the command was called: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** What a command runs with; tests pass their own. */
export interface CliContext {
  /** The configuration, read on first use (bad configuration prints one message and exits 2). */
  readonly config: () => Config;
  /** Opens a database (default: DATABASE_URL) with the configured pool, attempts and timeouts. */
  readonly open: (url?: string, options?: OpenOptions) => Promise<Database>;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /**
   * The exit code when the command returns: a command that ran but found a problem it has
   * reported (pending migrations, broken invariants) sets EXIT_FAILURE.
   */
  exitCode: number;
}

/** The context of the real process: process.env and .env, stdout and stderr. */
export function processContext(): CliContext {
  let config: Config | undefined;
  const context: CliContext = {
    config: () => (config ??= loadConfig()),
    open: (url, options = {}) => {
      const configured = context.config();
      return openDatabase(url ?? configured.databaseUrl, { ...databaseOptions(configured), ...options });
    },
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    exitCode: EXIT_OK,
  };
  return context;
}

/** Opens the database (default: DATABASE_URL), runs work on it and closes it. */
export async function withDatabase<T>(context: CliContext, url: string | undefined, work: (db: Database) => Promise<T>): Promise<T> {
  const db = await context.open(url);
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}

/** A command whose one option is --db: it runs work on that database. */
export function databaseCommand(
  context: CliContext,
  name: string,
  description: string,
  work: (db: Database) => Promise<void>,
): Command {
  return new Command(name)
    .description(description)
    .addOption(dbOption())
    .action((flags: { db?: string }) => withDatabase(context, flags.db, work));
}

// ---- options -----------------------------------------------------------------------------------

/** `--db <url>`: the database a command opens instead of DATABASE_URL. */
export function dbOption(description = 'Database (default: DATABASE_URL)'): Option {
  return new Option('--db <url>', description);
}

/** An option whose value is parsed by `parse(flag, value)`, e.g. `parse('--seed', '7')`. */
function parsedOption<T>(flags: string, description: string, parse: (flag: string, value: string) => T): Option {
  const option = new Option(flags, description);
  return option.argParser((value: string) => parse(`--${option.name()}`, value));
}

/** A whole number ≥ min, e.g. `--num-users <n>`. */
export function wholeNumberOption(flags: string, description: string, defaultValue: number, min = 0): Option {
  return parsedOption(flags, description, (flag, value) => {
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < min) {
      throw new UsageError(`${flag} must be a whole number${min > 0 ? ` ≥ ${min}` : ''}, got "${value}"`);
    }
    return Number(value);
  }).default(defaultValue);
}

/** A TCP port, 0 to 65535 (0: any free one), with no default, e.g. `--prometheus-port <port>`. */
export function portOption(flags: string, description: string): Option {
  return parsedOption(flags, description, (flag, value) => {
    if (!/^\d+$/.test(value) || Number(value) > 65535) throw new UsageError(`${flag} must be a port number from 0 to 65535, got "${value}"`);
    return Number(value);
  });
}

/** A number ≥ 0 with an optional fraction, e.g. `--max-rate <ops/s>`. */
export function decimalOption(flags: string, description: string, defaultValue: number): Option {
  return parsedOption(flags, description, (flag, value) => {
    if (!/^\d+(\.\d+)?$/.test(value.trim())) throw new UsageError(`${flag} must be a number ≥ 0, got "${value}"`);
    return Number(value);
  }).default(defaultValue);
}

/** A duration in milliseconds, written 30s, 5m, 1h, 1500ms or a bare number of seconds. */
export function durationOption(flags: string, description: string, defaultMs: number): Option {
  return parsedOption(flags, description, (flag, value) => usageOnMixError(() => parseDuration(value, flag))).default(
    defaultMs,
    `${defaultMs / 1000}s`,
  );
}

/** One of a few words, e.g. `--survive <goal>`: zone or region. */
export function choiceOption<T extends string>(flags: string, description: string, choices: readonly T[], defaultValue: T): Option {
  return parsedOption(flags, description, (flag, value): T => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new UsageError(`${flag} must be ${choices.join(' or ')}, got "${value}"`);
    }
    return value as T;
  }).default(defaultValue, defaultValue);
}

/** Runs parse; a MixError (a workload flag that cannot be used) becomes a UsageError. */
export function usageOnMixError<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof MixError) throw new UsageError(error.message);
    throw error;
  }
}

// ---- shared steps and outputs ------------------------------------------------------------------

/** Refuses a database with pending migrations: the commands need every table. */
export async function assertMigrated(db: Database): Promise<void> {
  const pending = await pendingMigrations(db);
  if (pending.length > 0) {
    throw new Error(
      `the database at ${db.displayUrl} has ${pending.length} pending migration statements: run "movr db migrate" first`,
    );
  }
}

/** The start of the current hour, UTC: the default base time of the data set. */
export function currentHour(): Date {
  const now = new Date();
  now.setUTCMinutes(0, 0, 0);
  return now;
}

export function printDemoAccounts(context: CliContext, result: InitResult): void {
  if (result.demoAccounts.length === 0) return;
  context.out('Demo accounts (username / password):\n');
  for (const account of result.demoAccounts) {
    context.out(`  ${account.username} / ${account.password}  (${account.name}, ${account.city})\n`);
  }
}
