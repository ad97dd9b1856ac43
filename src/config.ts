// MovR's configuration: read from the environment (and a `.env` file) once, validated by zod,
// and handed around as one frozen object. Nothing else in the code reads process.env.
import { existsSync, readFileSync } from 'node:fs';
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
import { type PriceList, priceListOverrideSchema, priceListWith } from './movr/pricing.ts';

/** JSON API requests per minute per client address, unless MOVR_API_RATE_LIMIT says otherwise. */
export const DEFAULT_API_RATE_LIMIT_PER_MINUTE = 600;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const integer = (name: string, min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `${name} must be a whole number`)
    .transform(Number)
    .pipe(z.number().int().min(min, `${name} must be at least ${min}`).max(max, `${name} must be at most ${max}`));

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
  /** Ride prices: the defaults of src/movr/pricing.ts with MOVR_PRICE_LIST's changes. */
  readonly priceList: PriceList;
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
    priceList: priceListWith(e.MOVR_PRICE_LIST ?? {}),
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
