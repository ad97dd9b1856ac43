// `movr workload init`: loads the generated MovR data set (see generate.ts) into a migrated
// database.
//
// Rows are generated and inserted in batches, one multi-row statement per batch:
// `INSERT … SELECT … FROM unnest($1::uuid[], $2::varchar[], …)` with one array parameter per
// column, which PostgreSQL, PGlite and CockroachDB all accept. While batches are being inserted
// (one at a time on PGlite, two at once on a server) the next one is generated; no more than
// concurrency + 1 batches are ever held in memory, so loads of millions of rows run in bounded
// memory. Each batch commits on its own: a load that fails half way leaves partial data behind,
// which the next `init --drop` replaces. Measured (2-core machine, 1M rides + 1M histories +
// 50k users + 15k vehicles + 10k promo codes, scripts/bench-init.ts): PostgreSQL 15 about 55 s
// (38k rows/s), PGlite on disk about 2.5 min (14k rows/s); the FK checks of each ride dominate.
import { randomBytes } from 'node:crypto';
import type { Database } from '../db/connect.ts';
import { TABLE_NAMES_CHILDREN_FIRST } from '../db/schema.ts';
import { hashPassword } from '../movr/passwords.ts';
import { DEFAULT_PRICE_LISTS, type PriceLists, centsToDecimal, computeFare } from '../movr/pricing.ts';
import { DEFAULT_REGION_MAP } from '../region-map.ts';
import { type GenerateOptions, MovrGenerator, fixedDemoPassword } from './generate.ts';

export interface InitOptions extends GenerateOptions {
  /** Delete every row of every MovR table first. Without it, existing MovR data is an error. */
  drop: boolean;
  /** 'fixed': the same well-known demo passwords on every load; 'random': fresh random ones. */
  demoPasswords: 'fixed' | 'random';
  /** Called after every batch with the rows of `table` inserted so far. */
  progress?: (table: string, done: number, total: number) => void;
  /** Rows per INSERT statement (default 5,000). */
  batchSize?: number;
  /** INSERT statements in flight at once (default 1 on PGlite, 2 on a server). */
  concurrency?: number;
  /** What the demo accounts' rides cost (default: the default price lists). */
  priceLists?: PriceLists;
}

/** The defaults of `cockroach workload init movr`, its nine cities included. */
export const DEFAULT_INIT_OPTIONS: Omit<InitOptions, 'baseTime' | 'demoPasswords' | 'progress'> = Object.freeze({
  regions: DEFAULT_REGION_MAP,
  seed: 1,
  numUsers: 50,
  numVehicles: 15,
  numRides: 500,
  numHistories: 1000,
  numPromoCodes: 1000,
  drop: false,
});

/**
 * The demo set of the embedded database's first start (and `movr workload init --demo`): more
 * vehicles and users, at least 5 available vehicles in every city, and a few ended rides with
 * routes and receipts for each demo account.
 */
export const DEMO_INIT_OPTIONS: Omit<InitOptions, 'baseTime' | 'demoPasswords' | 'progress'> = Object.freeze({
  ...DEFAULT_INIT_OPTIONS,
  numUsers: 90,
  numVehicles: 135,
  numHistories: 2000,
  minAvailablePerCity: 5,
  demoRidesPerAccount: 3,
});

export interface DemoAccount {
  username: string;
  password: string;
  name: string;
  city: string;
}

export interface InitResult {
  /** Rows inserted per table; users include the demo users. */
  rows: Record<string, number>;
  totalRows: number;
  seconds: number;
  rowsPerSecond: number;
  demoAccounts: DemoAccount[];
}

export class MovrDataExistsError extends Error {
  readonly tables: string[];

  constructor(tables: string[]) {
    super(
      `The database already holds MovR data (in ${tables.join(', ')}). ` +
        'Pass --drop to delete all MovR data and load a fresh data set.',
    );
    this.name = 'MovrDataExistsError';
    this.tables = tables;
  }
}

const DEFAULT_BATCH_SIZE = 5_000;
const DEFAULT_SERVER_CONCURRENCY = 2;
const TABLES_CHECKED_FOR_DATA = ['users', 'vehicles', 'rides', 'promo_codes'] as const;

/** Loads the data set into an already migrated database. */
export async function initWorkload(db: Database, options: InitOptions): Promise<InitResult> {
  // Validates the options (and throws on impossible combinations) before touching the database.
  const generator = new MovrGenerator(options);
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError('batchSize must be a positive integer');
  // PGlite runs one statement at a time on this very thread; a server can use more cores.
  const concurrency = options.concurrency ?? (db.kind === 'pglite' ? 1 : DEFAULT_SERVER_CONCURRENCY);
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be a positive integer');

  if (options.drop) {
    await db.execute(`TRUNCATE TABLE ${TABLE_NAMES_CHILDREN_FIRST.join(', ')} CASCADE`);
  } else {
    const nonEmpty: string[] = [];
    for (const table of TABLES_CHECKED_FOR_DATA) {
      const rows = await db.execute(`SELECT 1 AS present FROM ${table} LIMIT 1`);
      if (rows.length > 0) nonEmpty.push(table);
    }
    if (nonEmpty.length > 0) throw new MovrDataExistsError(nonEmpty);
  }

  const started = performance.now();
  const progress = options.progress ?? (() => {});
  // Tables the generator leaves empty (user_promo_codes, ride_receipts) are reported as 0.
  const rows: Record<string, number> = Object.fromEntries(TABLE_NAMES_CHILDREN_FIRST.map((table) => [table, 0]));
  const load = async <N extends number>(loader: Loader<N>) => {
    rows[loader.table] = await insertBatches(db, loader, batchSize, concurrency, progress);
  };

  const { numUsers, numVehicles, numRides, numHistories, numPromoCodes } = generator.options;
  const demoUsers = generator.demoAccounts.map((_, i) => generator.demoUser(i));

  await load({
    table: 'users',
    sql: `INSERT INTO users (id, city, name, address, credit_card)
      SELECT * FROM unnest($1::uuid[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[])`,
    columns: 5,
    total: numUsers + demoUsers.length,
    fill(i, [id, city, name, address, card]) {
      const user = i < numUsers ? generator.user(i) : (demoUsers[i - numUsers] as (typeof demoUsers)[number]);
      id.push(user.id);
      city.push(user.city);
      name.push(user.name);
      address.push(user.address);
      card.push(user.creditCard);
    },
  });

  await load({
    table: 'promo_codes',
    sql: `INSERT INTO promo_codes (code, description, creation_time, expiration_time, rules)
      SELECT code, description, creation_time, expiration_time, rules::jsonb
      FROM unnest($1::varchar[], $2::varchar[], $3::timestamp[], $4::timestamp[], $5::text[])
        AS t(code, description, creation_time, expiration_time, rules)`,
    columns: 5,
    total: numPromoCodes,
    fill(i, [code, description, creation, expiration, rules]) {
      const promo = generator.promoCode(i);
      code.push(promo.code);
      description.push(promo.description);
      creation.push(formatTimestamp(promo.creationTime));
      expiration.push(formatTimestamp(promo.expirationTime));
      rules.push(promo.rulesJson);
    },
  });

  await load({
    table: 'vehicles',
    sql: `INSERT INTO vehicles (id, city, type, owner_id, creation_time, status, current_location, ext, lat, long)
      SELECT id, city, type, owner_id, creation_time, status, current_location, ext::jsonb, lat, long
      FROM unnest($1::uuid[], $2::varchar[], $3::varchar[], $4::uuid[], $5::timestamp[], $6::varchar[],
                  $7::varchar[], $8::text[], $9::float8[], $10::float8[])
        AS t(id, city, type, owner_id, creation_time, status, current_location, ext, lat, long)`,
    columns: 10,
    total: numVehicles,
    fill(i, [id, city, type, owner, creation, status, location, ext, lat, long]) {
      const vehicle = generator.vehicle(i);
      id.push(vehicle.id);
      city.push(vehicle.city);
      type.push(vehicle.type);
      owner.push(vehicle.ownerId);
      creation.push(formatTimestamp(vehicle.creationTime));
      status.push(vehicle.status);
      location.push(vehicle.currentLocation);
      ext.push(vehicle.extJson);
      lat.push(vehicle.lat);
      long.push(vehicle.long);
    },
  });

  await load({
    table: 'rides',
    sql: `INSERT INTO rides (id, city, vehicle_city, rider_id, vehicle_id, start_address, end_address,
                             start_time, end_time, revenue)
      SELECT * FROM unnest($1::uuid[], $2::varchar[], $3::varchar[], $4::uuid[], $5::uuid[], $6::varchar[],
                           $7::varchar[], $8::timestamp[], $9::timestamp[], $10::numeric[])`,
    columns: 10,
    total: numRides,
    fill(i, [id, city, vehicleCity, rider, vehicle, startAddress, endAddress, start, end, revenue]) {
      const ride = generator.ride(i);
      id.push(ride.id);
      city.push(ride.city);
      vehicleCity.push(ride.vehicleCity);
      rider.push(ride.riderId);
      vehicle.push(ride.vehicleId);
      startAddress.push(ride.startAddress);
      endAddress.push(ride.endAddress);
      start.push(formatTimestamp(ride.startTime));
      end.push(ride.endTime === null ? null : formatTimestamp(ride.endTime));
      revenue.push(ride.revenue);
    },
  });

  await load({
    table: 'vehicle_location_histories',
    sql: `INSERT INTO vehicle_location_histories (city, ride_id, "timestamp", lat, long)
      SELECT * FROM unnest($1::varchar[], $2::uuid[], $3::timestamp[], $4::float8[], $5::float8[])`,
    columns: 5,
    total: numHistories,
    fill(i, [city, ride, timestamp, lat, long]) {
      const history = generator.history(i);
      city.push(history.city);
      ride.push(history.rideId);
      timestamp.push(formatMicros(history.timestampMicros));
      lat.push(history.lat);
      long.push(history.long);
    },
  });

  const passwords = generator.demoAccounts.map((_, i) =>
    options.demoPasswords === 'fixed' ? fixedDemoPassword(i) : randomBytes(18).toString('base64url'),
  );
  const hashes = await Promise.all(passwords.map((password) => hashPassword(password)));
  const createdAt = formatTimestamp(generator.options.baseTime.getTime());
  await load({
    table: 'user_credentials',
    sql: `INSERT INTO user_credentials (city, user_id, username, password_hash, created_at)
      SELECT * FROM unnest($1::varchar[], $2::uuid[], $3::varchar[], $4::varchar[], $5::timestamp[])`,
    columns: 5,
    total: demoUsers.length,
    fill(i, [city, user, username, hash, created]) {
      const demo = demoUsers[i] as (typeof demoUsers)[number];
      city.push(demo.city);
      user.push(demo.id);
      username.push(demo.username.toLowerCase());
      hash.push(hashes[i]);
      created.push(createdAt);
    },
  });

  const demoRides = await loadDemoRides(db, generator, options.priceLists ?? DEFAULT_PRICE_LISTS);
  for (const [table, count] of Object.entries(demoRides)) rows[table] = (rows[table] ?? 0) + count;

  const seconds = (performance.now() - started) / 1000;
  const totalRows = Object.values(rows).reduce((sum, n) => sum + n, 0);
  return {
    rows,
    totalRows,
    seconds,
    rowsPerSecond: seconds > 0 ? totalRows / seconds : 0,
    demoAccounts: demoUsers.map((user, i) => ({
      username: user.username,
      password: passwords[i] as string,
      name: user.name,
      city: user.city,
    })),
  };
}

/** The demo accounts' ended rides, their routes and receipts (a few rows: one statement each). */
async function loadDemoRides(db: Database, generator: MovrGenerator, priceLists: PriceLists): Promise<Record<string, number>> {
  const counts = { rides: 0, vehicle_location_histories: 0, ride_receipts: 0 };
  const perAccount = generator.options.demoRidesPerAccount ?? 0;
  for (let account = 0; account < generator.demoAccounts.length && perAccount > 0; account++) {
    for (let k = 0; k < perAccount; k++) {
      const ride = generator.demoRide(account, k);
      const fare = computeFare(priceLists[generator.options.regions.currencyOf(ride.city)], ride.vehicleType, new Date(ride.startTime), new Date(ride.endTime));
      await db.execute(
        `INSERT INTO rides (id, city, vehicle_city, rider_id, vehicle_id, start_address, end_address, start_time, end_time, revenue)
         VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [ride.id, ride.city, ride.riderId, ride.vehicleId, ride.startAddress, ride.endAddress, formatTimestamp(ride.startTime), formatTimestamp(ride.endTime), centsToDecimal(fare.totalCents)],
      );
      await db.execute(
        `INSERT INTO vehicle_location_histories (city, ride_id, "timestamp", lat, long)
         SELECT $1, $2, * FROM unnest($3::timestamp[], $4::float8[], $5::float8[])`,
        [ride.city, ride.id, ride.points.map((p) => formatMicros(p.timestampMicros)), ride.points.map((p) => p.lat), ride.points.map((p) => p.long)],
      );
      await db.execute(
        `INSERT INTO ride_receipts (city, ride_id, vehicle_type, minutes, unlock_cents, per_minute_cents, fare_cents,
                                    promo_code, discount_percent, discount_cents, total_cents, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, $9, $10, $11)`,
        [ride.city, ride.id, ride.vehicleType, fare.minutes, fare.unlockCents, fare.perMinuteCents, fare.fareCents, fare.discountPercent, fare.discountCents, fare.totalCents, formatTimestamp(ride.endTime)],
      );
      counts.rides++;
      counts.vehicle_location_histories += ride.points.length;
      counts.ride_receipts++;
    }
  }
  return counts;
}

type Tuple<T, N extends number, R extends T[] = []> = R['length'] extends N ? R : Tuple<T, N, [...R, T]>;

interface Loader<N extends number> {
  table: string;
  sql: string;
  /** The number of columns: one array parameter each. */
  columns: N;
  total: number;
  /** Appends row i to the column arrays. */
  fill(index: number, columns: Tuple<unknown[], N>): void;
}

/**
 * Inserts rows 0..total-1 in batches, with up to `concurrency` INSERT statements in flight, and
 * generates the next batch while they run (with PGlite everything happens on this thread, with a
 * server the two overlap). At most concurrency + 1 batches are held in memory.
 */
async function insertBatches<N extends number>(
  db: Database,
  loader: Loader<N>,
  batchSize: number,
  concurrency: number,
  progress: (table: string, done: number, total: number) => void,
): Promise<number> {
  const { table, total } = loader;
  if (total === 0) {
    progress(table, 0, 0);
    return 0;
  }
  const inFlight = new Set<Promise<void>>();
  let done = 0;
  let failure: Error | undefined;
  for (let from = 0; from < total && !failure; from += batchSize) {
    const to = Math.min(total, from + batchSize);
    const columns = Array.from({ length: loader.columns }, () => []) as unknown[][] as Tuple<unknown[], N>;
    for (let i = from; i < to; i++) loader.fill(i, columns);
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    if (failure) break;
    const task = db.execute(loader.sql, columns).then(
      () => {
        done += to - from;
        progress(table, done, total);
      },
      (error: unknown) => {
        failure ??= new Error(`Loading ${table} failed at rows ${from}..${to - 1}: ${(error as Error).message}`, {
          cause: error,
        });
      },
    );
    inFlight.add(task);
    void task.then(() => inFlight.delete(task));
  }
  // Never return while a statement is still running, not even after a failure.
  await Promise.all(inFlight);
  if (failure) throw failure;
  return total;
}

/**
 * 'YYYY-MM-DD HH:MM:SS.mmm' in UTC without an offset: the columns are TIMESTAMP WITHOUT TIME ZONE
 * holding UTC, so the literal must not be shifted by any session time zone.
 */
export function formatTimestamp(ms: number): string {
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

/** As formatTimestamp, with microseconds. */
export function formatMicros(micros: number): string {
  const ms = Math.floor(micros / 1000);
  return formatTimestamp(ms) + String(micros - ms * 1000).padStart(3, '0');
}
