// MovR's configuration: read from the environment (and a `.env` file) once, validated by zod,
// and handed around as one frozen object. Nothing else in the code reads process.env.
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import {
  DEFAULT_REGION_MAP,
  type RegionMap,
  type RegionMapResult,
  type RegionName,
  parseRegionMap,
  regionMapFromJson,
} from './region-map.ts';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_STATEMENT_TIMEOUT_MS, type OpenOptions } from './db/connect.ts';
import { type PriceLists, priceListOverrideSchema, priceListsWith } from './movr/pricing.ts';

/** JSON API requests per minute per client address, unless MOVR_API_RATE_LIMIT says otherwise. */
export const DEFAULT_API_RATE_LIMIT_PER_MINUTE = 600;
/**
 * A worker's heap limit by default. V8 otherwise lets a busy worker's heap grow to several times
 * what it keeps alive (about 30 MiB): 230 MiB RSS per worker under the bench's load, against
 * about 140 MiB with this limit (docs/benchmarks.md). Near it requests are shed with 503.
 */
export const DEFAULT_WORKER_HEAP_MIB = 128;
export const MIN_WORKER_HEAP_MIB = 64;
/** A metrics token shorter than this is refused: it would be guessable. */
export const METRICS_TOKEN_MIN_LENGTH = 16;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const integer = (name: string, min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `${name} must be a whole number`)
    .transform(Number)
    .pipe(z.number().int().min(min, `${name} must be at least ${min}`).max(max, `${name} must be at most ${max}`));

/** A duration in milliseconds, `min` or more; 0 where `min` is 0 means off. */
const milliseconds = (name: string, min: number, fallback: number) =>
  z.preprocess(blankAsUndefined, integer(name, min, 24 * 60 * 60 * 1000).default(fallback));

const blankAsUndefined = (value: unknown) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

const envSchema = z
  .object({
    NODE_ENV: z.preprocess(blankAsUndefined, z.enum(['development', 'production', 'test']).default('development')),
    MOVR_HOME: z.preprocess(blankAsUndefined, z.string().default('.movr')),
    DATABASE_URL: z.preprocess(
      blankAsUndefined,
      z
        .string()
        .refine(
          (url) => /^(postgres|postgresql):\/\/./.test(url) || /^pglite:./.test(url),
          'DATABASE_URL must start with postgres://, postgresql://, pglite:<directory> or be pglite:memory',
        )
        .optional(),
    ),
    MOVR_REDIS_PREFIX: z.preprocess(blankAsUndefined, z.string().trim().max(100).default('movr:')),
    MOVR_PER_ADDRESS_LOGIN_LIMITS: z.preprocess(
      blankAsUndefined,
      z.enum(['0', '1'], { error: 'MOVR_PER_ADDRESS_LOGIN_LIMITS must be 0 or 1' }).default('1').transform((value) => value === '1'),
    ),
    PORT: z.preprocess(blankAsUndefined, integer('PORT', 0, 65535).default(8080)),
    HOST: z.preprocess(blankAsUndefined, z.string().default('127.0.0.1')),
    // Checked against the region map in parseConfig.
    MOVR_REGION: z.preprocess(blankAsUndefined, z.string().trim().optional()),
    MOVR_REGIONS: z.preprocess(blankAsUndefined, z.string().optional()),
    MOVR_REGIONS_FILE: z.preprocess(blankAsUndefined, z.string().trim().optional()),
    MOVR_FOLLOWER_READS: z.preprocess(
      blankAsUndefined,
      z
        .string()
        .trim()
        .toLowerCase()
        .pipe(z.enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'], { error: 'MOVR_FOLLOWER_READS must be 1 or 0' }))
        .transform((value) => ['1', 'true', 'yes', 'on'].includes(value))
        .default(false),
    ),
    SECRET_KEY: z.preprocess(
      blankAsUndefined,
      z.string().min(32, 'SECRET_KEY must be at least 32 characters long').optional(),
    ),
    LOG_LEVEL: z.preprocess(
      blankAsUndefined,
      z.enum(LOG_LEVELS, { error: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
    ),
    DATABASE_POOL_SIZE: z.preprocess(blankAsUndefined, integer('DATABASE_POOL_SIZE', 1, 1000).default(10)),
    MOVR_TX_MAX_ATTEMPTS: z.preprocess(blankAsUndefined, integer('MOVR_TX_MAX_ATTEMPTS', 1, 100).default(10)),
    MOVR_API_RATE_LIMIT: z.preprocess(
      blankAsUndefined,
      integer('MOVR_API_RATE_LIMIT', 0, 10_000_000).default(DEFAULT_API_RATE_LIMIT_PER_MINUTE),
    ),
    MOVR_DB_CONNECT_TIMEOUT_MS: milliseconds('MOVR_DB_CONNECT_TIMEOUT_MS', 100, DEFAULT_CONNECT_TIMEOUT_MS),
    MOVR_DB_STATEMENT_TIMEOUT_MS: milliseconds('MOVR_DB_STATEMENT_TIMEOUT_MS', 0, DEFAULT_STATEMENT_TIMEOUT_MS),
    MOVR_INJECT_RETRY_ERRORS: z.preprocess(
      blankAsUndefined,
      z
        .string()
        .trim()
        .regex(/^(0(\.\d+)?|1(\.0+)?|\.\d+)$/, 'MOVR_INJECT_RETRY_ERRORS must be a fraction between 0 and 1, e.g. 0.2')
        .transform(Number)
        .default(0),
    ),
    MOVR_REQUEST_TIMEOUT_MS: milliseconds('MOVR_REQUEST_TIMEOUT_MS', 1000, 30_000),
    MOVR_HEADERS_TIMEOUT_MS: milliseconds('MOVR_HEADERS_TIMEOUT_MS', 1000, 10_000),
    MOVR_KEEP_ALIVE_TIMEOUT_MS: milliseconds('MOVR_KEEP_ALIVE_TIMEOUT_MS', 100, 5_000),
    MOVR_MAX_CONNECTIONS: z.preprocess(blankAsUndefined, integer('MOVR_MAX_CONNECTIONS', 1, 1_000_000).default(2048)),
    MOVR_MAX_CONNECTIONS_PER_CLIENT: z.preprocess(
      blankAsUndefined,
      integer('MOVR_MAX_CONNECTIONS_PER_CLIENT', 1, 1_000_000).default(256),
    ),
    MOVR_MAX_EVENT_LOOP_DELAY_MS: milliseconds('MOVR_MAX_EVENT_LOOP_DELAY_MS', 0, 1_000),
    MOVR_WORKERS: z.preprocess(blankAsUndefined, integer('MOVR_WORKERS', 1, 256).default(availableParallelism())),
    MOVR_WORKER_HEAP_MIB: z.preprocess(
      blankAsUndefined,
      integer('MOVR_WORKER_HEAP_MIB', 0, 1_048_576)
        .default(DEFAULT_WORKER_HEAP_MIB)
        .refine((mib) => mib === 0 || mib >= MIN_WORKER_HEAP_MIB, `MOVR_WORKER_HEAP_MIB must be 0 (V8's own limit) or at least ${MIN_WORKER_HEAP_MIB}`),
    ),
    MOVR_SHUTDOWN_GRACE_MS: milliseconds('MOVR_SHUTDOWN_GRACE_MS', 0, 10_000),
    MOVR_HOUSEKEEPING_INTERVAL_MS: milliseconds('MOVR_HOUSEKEEPING_INTERVAL_MS', 0, 5 * 60_000),
    MOVR_REDIS_URL: z.preprocess(
      blankAsUndefined,
      z
        .string()
        .trim()
        .regex(/^rediss?:\/\/\S+$/, 'MOVR_REDIS_URL must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379')
        .optional(),
    ),
    MOVR_METRICS_TOKEN: z.preprocess(
      blankAsUndefined,
      z
        .string()
        .trim()
        .min(METRICS_TOKEN_MIN_LENGTH, `MOVR_METRICS_TOKEN must be at least ${METRICS_TOKEN_MIN_LENGTH} characters long`)
        .regex(/^[\x21-\x7e]+$/, 'MOVR_METRICS_TOKEN must be printable ASCII without spaces (it travels in a header)')
        .optional(),
    ),
    MOVR_METRICS_PORT: z.preprocess(blankAsUndefined, integer('MOVR_METRICS_PORT', 0, 65535).optional()),
    MOVR_METRICS_HOST: z.preprocess(blankAsUndefined, z.string().trim().default('127.0.0.1')),
    MOVR_PRICE_LIST: z.preprocess(
      blankAsUndefined,
      z
        .string()
        .transform((text, ctx) => {
          try {
            return JSON.parse(text) as unknown;
          } catch {
            ctx.addIssue({ code: 'custom', message: 'MOVR_PRICE_LIST must be JSON' });
            return z.NEVER;
          }
        })
        .pipe(priceListOverrideSchema)
        .optional(),
    ),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production' && env.MOVR_INJECT_RETRY_ERRORS > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['MOVR_INJECT_RETRY_ERRORS'],
        message: 'MOVR_INJECT_RETRY_ERRORS is for tests and development: it cannot be set when NODE_ENV=production',
      });
    }
    if (env.MOVR_METRICS_PORT !== undefined && env.MOVR_METRICS_PORT !== 0 && env.MOVR_METRICS_PORT === env.PORT) {
      ctx.addIssue({ code: 'custom', path: ['MOVR_METRICS_PORT'], message: 'MOVR_METRICS_PORT must differ from PORT' });
    }
    if (env.NODE_ENV === 'production' && env.SECRET_KEY === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['SECRET_KEY'],
        message: 'SECRET_KEY is required when NODE_ENV=production (at least 32 random characters)',
      });
    }
  });

export interface Config {
  readonly nodeEnv: 'development' | 'production' | 'test';
  /** Folder for MovR's local state: the embedded database and the development secret key. */
  readonly homeDir: string;
  readonly databaseUrl: string;
  /** True when DATABASE_URL was not set and MovR uses its default embedded database. */
  readonly databaseIsDefault: boolean;
  readonly port: number;
  readonly host: string;
  /** The region this instance serves (MOVR_REGION): one of regionMap's regions. */
  readonly region: RegionName | undefined;
  /**
   * The regions and their cities: the default nine cities in three regions, or the map given
   * by MOVR_REGIONS or MOVR_REGIONS_FILE, which replaces the default.
   */
  readonly regionMap: RegionMap;
  /** MOVR_FOLLOWER_READS=1: promo code listings read slightly stale data from the nearest replica on CockroachDB. */
  readonly followerReads: boolean;
  /** Undefined in development until the server generates and stores one (see web/secret-key.ts). */
  readonly secretKey: string | undefined;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  readonly poolSize: number;
  readonly transactionMaxAttempts: number;
  /** JSON API requests per minute per client address; 0 turns the limit off (e.g. for load tests). */
  readonly apiRateLimitPerMinute: number;
  /** Where the log-in and sign-up counters are shared (MOVR_REDIS_URL); undefined: in this process's memory. */
  readonly redisUrl: string | undefined;
  /** What MovR's keys in Redis start with (MOVR_REDIS_PREFIX), so that several MovR sites can share one Redis. */
  readonly redisPrefix: string;
  /** MOVR_PER_ADDRESS_LOGIN_LIMITS=0 lifts the per-address log-in and sign-up limits (load tests through the API). */
  readonly perAddressLoginLimits: boolean;
  /** Ride prices: the defaults of src/movr/pricing.ts with MOVR_PRICE_LIST's changes. */
  /** Ride prices per currency (MOVR_PRICE_LIST over the defaults). */
  readonly priceLists: PriceLists;
  /** Connecting to the database gives up after this long (MOVR_DB_CONNECT_TIMEOUT_MS). */
  readonly dbConnectTimeoutMs: number;
  /** Statements are cancelled after this long, 0 = never (MOVR_DB_STATEMENT_TIMEOUT_MS). */
  readonly dbStatementTimeoutMs: number;
  /** Tests and development only: see TransactionSettings.injectRetryErrors. */
  readonly injectRetryErrors: number;
  /** A request (headers and body) must arrive within this long, else 408 and the connection is closed. */
  readonly requestTimeoutMs: number;
  /** The request headers must arrive within this long. */
  readonly headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long. */
  readonly keepAliveTimeoutMs: number;
  /** Connections one server process holds at most; more are refused. */
  readonly maxConnections: number;
  /** Connections one client address holds at most; more are closed at once. */
  readonly maxConnectionsPerClient: number;
  /** Requests are shed with 503 while the event loop lags more than this (0: never). */
  readonly maxEventLoopDelayMs: number;
  /** Server processes on a server database (MOVR_WORKERS; the embedded database always uses one). */
  readonly workers: number;
  /** Each worker process's old-generation heap limit in MiB (`--max-old-space-size`); 0 leaves V8's own. */
  readonly workerHeapMiB: number;
  /** On SIGTERM, in-flight requests get this long to finish. */
  readonly shutdownGraceMs: number;
  /** How often expired idempotency keys and API tokens are purged (0: never). */
  readonly housekeepingIntervalMs: number;
  /**
   * Prometheus metrics: with a token, /metrics on the main port answers requests bearing it;
   * with a port, they are also served there (on `host`, loopback by default) without a token.
   * With neither, there is no /metrics. See docs/operations.md.
   */
  readonly metrics: {
    readonly token: string | undefined;
    readonly port: number | undefined;
    readonly host: string;
  };
}

/** Are metrics on (a token for the main port, or a port of their own)? */
export function metricsEnabled(config: Pick<Config, 'metrics'>): boolean {
  return config.metrics.token !== undefined || config.metrics.port !== undefined;
}

/** How to open the configured database. */
export function databaseOptions(config: Config): OpenOptions {
  return {
    poolSize: config.poolSize,
    transactionMaxAttempts: config.transactionMaxAttempts,
    connectTimeoutMs: config.dbConnectTimeoutMs,
    statementTimeoutMs: config.dbStatementTimeoutMs,
    injectRetryErrors: config.injectRetryErrors,
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses an environment into a Config; throws ConfigError naming every wrong setting. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = envSchema.safeParse(env);
  const problems = result.success
    ? []
    : result.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? 'configuration');
        return issue.message.startsWith(name) ? issue.message : `${name}: ${issue.message}`;
      });
  // The region map is checked apart from the schema, so that its problems are reported
  // together with every other wrong setting.
  const regions = regionMapFromEnv(env);
  problems.push(...regions.problems);
  if (!result.success || problems.length > 0) throw new ConfigError(problems);
  const e = result.data;
  const homeDir = path.resolve(e.MOVR_HOME);
  return Object.freeze({
    nodeEnv: e.NODE_ENV,
    homeDir,
    databaseUrl: e.DATABASE_URL ?? `pglite:${path.join(homeDir, 'data')}`,
    databaseIsDefault: e.DATABASE_URL === undefined,
    port: e.PORT,
    host: e.HOST,
    region: e.MOVR_REGION,
    regionMap: regions.map ?? DEFAULT_REGION_MAP,
    followerReads: e.MOVR_FOLLOWER_READS,
    secretKey: e.SECRET_KEY,
    logLevel: e.LOG_LEVEL,
    poolSize: e.DATABASE_POOL_SIZE,
    transactionMaxAttempts: e.MOVR_TX_MAX_ATTEMPTS,
    apiRateLimitPerMinute: e.MOVR_API_RATE_LIMIT,
    redisUrl: e.MOVR_REDIS_URL,
    redisPrefix: e.MOVR_REDIS_PREFIX,
    perAddressLoginLimits: e.MOVR_PER_ADDRESS_LOGIN_LIMITS,
    priceLists: priceListsWith(e.MOVR_PRICE_LIST ?? {}),
    dbConnectTimeoutMs: e.MOVR_DB_CONNECT_TIMEOUT_MS,
    dbStatementTimeoutMs: e.MOVR_DB_STATEMENT_TIMEOUT_MS,
    injectRetryErrors: e.MOVR_INJECT_RETRY_ERRORS,
    requestTimeoutMs: e.MOVR_REQUEST_TIMEOUT_MS,
    headersTimeoutMs: Math.min(e.MOVR_HEADERS_TIMEOUT_MS, e.MOVR_REQUEST_TIMEOUT_MS),
    keepAliveTimeoutMs: e.MOVR_KEEP_ALIVE_TIMEOUT_MS,
    maxConnections: e.MOVR_MAX_CONNECTIONS,
    maxConnectionsPerClient: e.MOVR_MAX_CONNECTIONS_PER_CLIENT,
    maxEventLoopDelayMs: e.MOVR_MAX_EVENT_LOOP_DELAY_MS,
    workers: e.MOVR_WORKERS,
    workerHeapMiB: e.MOVR_WORKER_HEAP_MIB,
    shutdownGraceMs: e.MOVR_SHUTDOWN_GRACE_MS,
    housekeepingIntervalMs: e.MOVR_HOUSEKEEPING_INTERVAL_MS,
    metrics: Object.freeze({ token: e.MOVR_METRICS_TOKEN, port: e.MOVR_METRICS_PORT, host: e.MOVR_METRICS_HOST }),
  });
}

const blank = (value: string | undefined): value is undefined => value === undefined || value.trim() === '';

/**
 * The region map from MOVR_REGIONS (compact form) or MOVR_REGIONS_FILE (JSON), or the default;
 * and MOVR_REGION checked against it. Problems are prefixed with the setting's name.
 */
function regionMapFromEnv(env: Record<string, string | undefined>): { map?: RegionMap; problems: string[] } {
  const problems: string[] = [];
  let parsed: RegionMapResult | undefined;
  let setting = 'MOVR_REGIONS';
  if (!blank(env.MOVR_REGIONS) && !blank(env.MOVR_REGIONS_FILE)) {
    problems.push('MOVR_REGIONS and MOVR_REGIONS_FILE are both set: use one of them');
  } else if (!blank(env.MOVR_REGIONS)) {
    parsed = parseRegionMap(env.MOVR_REGIONS);
  } else if (!blank(env.MOVR_REGIONS_FILE)) {
    const file = env.MOVR_REGIONS_FILE.trim();
    setting = `MOVR_REGIONS_FILE (${file})`;
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      const reason = error instanceof SyntaxError ? `is not JSON (${error.message})` : `cannot be read (${(error as Error).message})`;
      problems.push(`${setting} ${reason}`);
    }
    if (problems.length === 0) parsed = regionMapFromJson(json);
  }
  problems.push(...(parsed?.problems ?? []).map((problem) => `${setting}: ${problem}`));
  const map = parsed ? parsed.map : problems.length === 0 ? DEFAULT_REGION_MAP : undefined;

  const region = env.MOVR_REGION?.trim();
  if (region) {
    // Against the regions that were given even if the map has other problems.
    const known = map ? [...map.regionNames] : [...new Set(parsed?.regionNames ?? [])];
    if (!known.includes(region)) {
      problems.push(
        known.length > 0
          ? `MOVR_REGION must be one of ${known.join(', ')}${map === DEFAULT_REGION_MAP ? '' : ' (the regions of the region map)'}`
          : 'MOVR_REGION must be one of the regions of the region map',
      );
    }
  }
  return map ? { map, problems } : { problems };
}

/**
 * Reads `.env` (if present; real environment variables win) and process.env. On invalid
 * configuration prints one message naming every wrong setting and exits with code 2.
 */
export function loadConfig(envFile = '.env'): Config {
  try {
    if (existsSync(envFile)) process.loadEnvFile(envFile);
    return parseConfig(process.env);
  } catch (error) {
    const message = error instanceof ConfigError ? error.message : `Could not read ${envFile}: ${String(error)}`;
    process.stderr.write(`movr: ${message}\n`);
    process.exit(2);
  }
}
