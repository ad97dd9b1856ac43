// The MovR schema. The six tables are exactly those of `cockroach workload init movr`, so MovR
// can serve a database that tool created; our own additions are new tables, new nullable
// columns and new indexes only. Every city-keyed table leads its primary key with `city` so
// that CockroachDB can geo-partition it.
import { getTableName, sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  check,
  doublePrecision,
  foreignKey,
  getTableConfig,
  index,
  boolean,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  timestamp,
  uniqueIndex,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core';

// TIMESTAMP WITHOUT TIME ZONE, as in the workload schema; MovR always stores UTC.
const ts = (name: string) => timestamp(name, { mode: 'date' });

export const users = pgTable(
  'users',
  {
    id: uuid('id').notNull(),
    city: varchar('city').notNull(),
    name: varchar('name'),
    address: varchar('address'),
    creditCard: varchar('credit_card'),
  },
  (t) => [primaryKey({ name: 'users_pkey', columns: [t.city, t.id] })],
);

export const vehicles = pgTable(
  'vehicles',
  {
    id: uuid('id').notNull(),
    city: varchar('city').notNull(),
    type: varchar('type'),
    ownerId: uuid('owner_id'),
    creationTime: ts('creation_time'),
    status: varchar('status'),
    currentLocation: varchar('current_location'),
    ext: jsonb('ext').$type<Record<string, unknown>>(),
    // MovR's addition: where the vehicle is parked (WGS 84 degrees); null when unknown.
    lat: doublePrecision('lat'),
    long: doublePrecision('long'),
  },
  (t) => [
    primaryKey({ name: 'vehicles_pkey', columns: [t.city, t.id] }),
    index('vehicles_auto_index_fk_city_ref_users').on(t.city, t.ownerId),
    // "Near me": a bounding box on (lat, long) within a city, read from the index alone.
    index('vehicles_city_lat_long').on(t.city, t.lat, t.long),
    foreignKey({ name: 'fk_city_ref_users', columns: [t.city, t.ownerId], foreignColumns: [users.city, users.id] }),
  ],
);

export const rides = pgTable(
  'rides',
  {
    id: uuid('id').notNull(),
    city: varchar('city').notNull(),
    vehicleCity: varchar('vehicle_city'),
    riderId: uuid('rider_id'),
    vehicleId: uuid('vehicle_id'),
    startAddress: varchar('start_address'),
    endAddress: varchar('end_address'),
    startTime: ts('start_time'),
    endTime: ts('end_time'),
    revenue: numeric('revenue', { precision: 10, scale: 2 }),
  },
  (t) => [
    primaryKey({ name: 'rides_pkey', columns: [t.city, t.id] }),
    index('rides_auto_index_fk_city_ref_users').on(t.city, t.riderId),
    index('rides_auto_index_fk_vehicle_city_ref_vehicles').on(t.vehicleCity, t.vehicleId),
    foreignKey({ name: 'fk_city_ref_users', columns: [t.city, t.riderId], foreignColumns: [users.city, users.id] }),
    foreignKey({
      name: 'fk_vehicle_city_ref_vehicles',
      columns: [t.vehicleCity, t.vehicleId],
      foreignColumns: [vehicles.city, vehicles.id],
    }),
    check('check_vehicle_city_city', sql`${t.vehicleCity} = ${t.city}`),
    // MovR's additions: a vehicle and a rider each have at most one open ride.
    uniqueIndex('rides_one_open_ride_per_vehicle')
      .on(t.vehicleCity, t.vehicleId)
      .where(sql`end_time IS NULL`),
    uniqueIndex('rides_one_open_ride_per_rider')
      .on(t.city, t.riderId)
      .where(sql`end_time IS NULL`),
    // A rider's rides, newest first, for keyset pagination.
    index('rides_rider_start_time').on(t.city, t.riderId, t.startTime.desc(), t.id.desc()),
    // The operators' dashboard: a city's rides ended in a period (decision 0025).
    index('rides_city_end_time').on(t.city, t.endTime),
  ],
);

export const vehicleLocationHistories = pgTable(
  'vehicle_location_histories',
  {
    city: varchar('city').notNull(),
    rideId: uuid('ride_id').notNull(),
    timestamp: ts('timestamp').notNull(),
    lat: doublePrecision('lat'),
    long: doublePrecision('long'),
  },
  (t) => [
    primaryKey({ name: 'vehicle_location_histories_pkey', columns: [t.city, t.rideId, t.timestamp] }),
    foreignKey({ name: 'fk_city_ref_rides', columns: [t.city, t.rideId], foreignColumns: [rides.city, rides.id] }),
  ],
);

export interface PromoRules {
  type: string;
  value: string;
}

export const promoCodes = pgTable(
  'promo_codes',
  {
    code: varchar('code').notNull(),
    description: varchar('description'),
    creationTime: ts('creation_time'),
    expirationTime: ts('expiration_time'),
    rules: jsonb('rules').$type<PromoRules>(),
    // MovR's additions, all nullable so codes written by other tools keep working (decision 0024):
    /** How many riders may redeem the code in all; null: no limit. */
    redemptionLimit: integer('redemption_limit'),
    /** How many riders have redeemed it; kept only for codes with a redemption limit. */
    redemptions: integer('redemptions'),
    /** Rides the code discounts for each rider who redeemed it; null: no limit (codes from elsewhere). */
    perRiderLimit: integer('per_rider_limit'),
    /** The cities where it applies; null with regions null: everywhere. */
    cities: varchar('cities').array(),
    /** The regions (of the region map) where it applies. */
    regions: varchar('regions').array(),
    /** Listed publicly (false: only riders who were given it, or who know it, can add it); null: listed. */
    listed: boolean('listed'),
  },
  (t) => [primaryKey({ name: 'promo_codes_pkey', columns: [t.code] })],
);

export const userPromoCodes = pgTable(
  'user_promo_codes',
  {
    city: varchar('city').notNull(),
    userId: uuid('user_id').notNull(),
    code: varchar('code').notNull(),
    timestamp: ts('timestamp'),
    usageCount: integer('usage_count'),
  },
  (t) => [
    primaryKey({ name: 'user_promo_codes_pkey', columns: [t.city, t.userId, t.code] }),
    foreignKey({ name: 'fk_city_ref_users', columns: [t.city, t.userId], foreignColumns: [users.city, users.id] }),
    // MovR's addition: the workload schema lets a user hold a code that does not exist.
    foreignKey({ name: 'user_promo_codes_code_fk', columns: [t.code], foreignColumns: [promoCodes.code] }),
  ],
);

/** MovR's addition: log-in credentials, one set per user. Usernames are stored lower-cased. */
export const userCredentials = pgTable(
  'user_credentials',
  {
    city: varchar('city').notNull(),
    userId: uuid('user_id').notNull(),
    username: varchar('username').notNull(),
    passwordHash: varchar('password_hash').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'user_credentials_pkey', columns: [t.city, t.userId] }),
    uniqueIndex('user_credentials_username_key').on(t.username),
    foreignKey({
      name: 'user_credentials_user_fk',
      columns: [t.city, t.userId],
      foreignColumns: [users.city, users.id],
    }).onDelete('cascade'),
  ],
);

/**
 * MovR's addition: how a ride's revenue came about (price, minutes, promo code), written when
 * the ride ends, so a receipt shows the same figures later even if prices change.
 */
export const rideReceipts = pgTable(
  'ride_receipts',
  {
    city: varchar('city').notNull(),
    rideId: uuid('ride_id').notNull(),
    vehicleType: varchar('vehicle_type'),
    minutes: integer('minutes').notNull(),
    unlockCents: integer('unlock_cents').notNull(),
    perMinuteCents: integer('per_minute_cents').notNull(),
    fareCents: integer('fare_cents').notNull(),
    promoCode: varchar('promo_code'),
    discountPercent: doublePrecision('discount_percent').notNull(),
    discountCents: integer('discount_cents').notNull(),
    totalCents: integer('total_cents').notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [
    primaryKey({ name: 'ride_receipts_pkey', columns: [t.city, t.rideId] }),
    foreignKey({ name: 'ride_receipts_ride_fk', columns: [t.city, t.rideId], foreignColumns: [rides.city, rides.id] }),
  ],
);

/**
 * MovR's addition: bearer tokens of the JSON API. The token itself is signed and carries its
 * expiry; this row exists so a token can be revoked (log-out) before it expires.
 */
export const apiTokens = pgTable(
  'api_tokens',
  {
    city: varchar('city').notNull(),
    userId: uuid('user_id').notNull(),
    id: uuid('id').notNull(),
    createdAt: ts('created_at').notNull(),
    expiresAt: ts('expires_at').notNull(),
    revokedAt: ts('revoked_at'),
  },
  (t) => [
    primaryKey({ name: 'api_tokens_pkey', columns: [t.city, t.userId, t.id] }),
    // Housekeeping finds expired tokens without a scan.
    index('api_tokens_expires_at').on(t.expiresAt),
    foreignKey({ name: 'api_tokens_user_fk', columns: [t.city, t.userId], foreignColumns: [users.city, users.id] }).onDelete(
      'cascade',
    ),
  ],
);

/**
 * MovR's addition: the first response to each Idempotency-Key of a user, written in the same
 * transaction as the work it describes, so a retried request gets that response instead of
 * acting twice. Keys expire after a day.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    city: varchar('city').notNull(),
    userId: uuid('user_id').notNull(),
    key: varchar('key').notNull(),
    requestHash: varchar('request_hash').notNull(),
    statusCode: integer('status_code').notNull(),
    response: jsonb('response').$type<unknown>().notNull(),
    createdAt: ts('created_at').notNull(),
    expiresAt: ts('expires_at').notNull(),
  },
  (t) => [
    primaryKey({ name: 'idempotency_keys_pkey', columns: [t.city, t.userId, t.key] }),
    // Housekeeping finds expired keys without a scan.
    index('idempotency_keys_expires_at').on(t.expiresAt),
    foreignKey({
      name: 'idempotency_keys_user_fk',
      columns: [t.city, t.userId],
      foreignColumns: [users.city, users.id],
    }).onDelete('cascade'),
  ],
);

/**
 * MovR's addition: the web site's sessions, so that one can be ended on the server (log-out,
 * another device's "end", a password change, a deleted account). The cookie carries a random
 * token; `id` is its SHA-256 (base64url), so a copy of this table logs no one in. `last_seen_at`
 * and `expires_at` slide forward with use, at most once a minute (src/movr/sessions.ts).
 */
export const sessions = pgTable(
  'sessions',
  {
    city: varchar('city').notNull(),
    userId: uuid('user_id').notNull(),
    id: varchar('id').notNull(),
    createdAt: ts('created_at').notNull(),
    lastSeenAt: ts('last_seen_at').notNull(),
    expiresAt: ts('expires_at').notNull(),
    /** What the browser said it is (User-Agent, shortened), for the profile's list. */
    userAgent: varchar('user_agent'),
    /** The client address it logged in from. */
    address: varchar('address'),
  },
  (t) => [
    primaryKey({ name: 'sessions_pkey', columns: [t.city, t.userId, t.id] }),
    // Housekeeping finds expired sessions without a scan.
    index('sessions_expires_at').on(t.expiresAt),
    foreignKey({ name: 'sessions_user_fk', columns: [t.city, t.userId], foreignColumns: [users.city, users.id] }).onDelete(
      'cascade',
    ),
  ],
);

/**
 * MovR's addition: who may run the platform (the operator pages and API). A row makes its user
 * an operator; `movr operators grant|revoke` writes it (decision 0023).
 */
export const operators = pgTable(
  'operators',
  {
    city: varchar('city').notNull(),
    userId: uuid('user_id').notNull(),
    grantedAt: ts('granted_at').notNull(),
  },
  (t) => [
    primaryKey({ name: 'operators_pkey', columns: [t.city, t.userId] }),
    foreignKey({ name: 'operators_user_fk', columns: [t.city, t.userId], foreignColumns: [users.city, users.id] }).onDelete(
      'cascade',
    ),
  ],
);

/**
 * MovR's addition: what operators did (who, what, when), written in the transaction of the
 * action itself. Keyed by the operator's city; no foreign key, so the record outlives the role.
 */
export const operatorActions = pgTable(
  'operator_actions',
  {
    city: varchar('city').notNull(),
    id: uuid('id').notNull(),
    operatorId: uuid('operator_id').notNull(),
    operatorUsername: varchar('operator_username'),
    action: varchar('action').notNull(),
    subject: varchar('subject').notNull(),
    details: jsonb('details').$type<Record<string, unknown>>(),
    at: ts('at').notNull(),
  },
  (t) => [primaryKey({ name: 'operator_actions_pkey', columns: [t.city, t.id] }), index('operator_actions_at').on(t.at.desc())],
);

// ---- the tables, derived ----------------------------------------------------------------------
// Lists of tables are read off the declarations above, so a new table cannot be forgotten by the
// code that empties, geo-partitions or snapshots every table.

/** Every MovR table, parents before children (the order they are declared in). */
export const TABLES = [
  users,
  vehicles,
  rides,
  vehicleLocationHistories,
  promoCodes,
  userPromoCodes,
  userCredentials,
  rideReceipts,
  apiTokens,
  idempotencyKeys,
  sessions,
  operators,
  operatorActions,
] as const;

export type MovrTable = (typeof TABLES)[number];

/** Every MovR table's name, children before parents: the order to empty or drop them in. */
export const TABLE_NAMES_CHILDREN_FIRST: readonly string[] = Object.freeze(childrenFirst(TABLES).map((table) => getTableName(table)));

/** Tables whose primary key starts with city: each row can live in its city's region. */
export const CITY_KEYED_TABLES: readonly string[] = Object.freeze(
  TABLES.filter((table) => primaryKeyColumns(table)[0] === 'city').map((table) => getTableName(table)),
);

/** Tables without a city: read everywhere, written rarely (promo_codes). */
export const GLOBAL_TABLES: readonly string[] = Object.freeze(
  TABLES.map((table) => getTableName(table)).filter((name) => !CITY_KEYED_TABLES.includes(name)),
);

/** Secondary indexes led by a city column, and that column (all on city-keyed tables). */
export const CITY_LED_INDEXES: readonly { table: string; index: string; column: 'city' | 'vehicle_city' }[] = Object.freeze(
  TABLES.flatMap((table) => {
    const { name, indexes } = getTableConfig(table);
    return indexes.flatMap((index) => {
      const first = index.config.columns[0];
      const column = first && 'name' in first ? first.name : undefined;
      return column === 'city' || column === 'vehicle_city' ? [{ table: name, index: index.config.name ?? '', column: column as 'city' | 'vehicle_city' }] : [];
    });
  }),
);

/** A table whose rows refer to a user, and its columns that hold the user's (city, id). */
export interface UserReference {
  readonly table: MovrTable;
  readonly city: AnyPgColumn;
  readonly userId: AnyPgColumn;
}

/** Every table with a foreign key to users (users(city, id)). */
export const USER_REFERENCES: readonly UserReference[] = Object.freeze(
  TABLES.flatMap((table) =>
    getTableConfig(table)
      .foreignKeys.map((fk) => fk.reference())
      .filter((reference) => reference.foreignTable === users)
      .map((reference) => {
        const at = (name: string) => reference.columns[reference.foreignColumns.findIndex((column) => column.name === name)];
        const city = at('city');
        const userId = at('id');
        if (!city || !userId) throw new Error(`${getTableName(table)} refers to users without (city, id)`);
        return { table, city, userId };
      }),
  ),
);

function primaryKeyColumns(table: MovrTable): string[] {
  return getTableConfig(table).primaryKeys[0]?.columns.map((column) => column.name) ?? [];
}

/** Children before parents: a table comes before every table it has a foreign key to. */
function childrenFirst(tables: readonly MovrTable[]): MovrTable[] {
  const parentsOf = (table: MovrTable) =>
    getTableConfig(table).foreignKeys.map((fk) => fk.reference().foreignTable).filter((parent) => parent !== table);
  const placed: MovrTable[] = [];
  const visit = (table: MovrTable) => {
    if (placed.includes(table)) return;
    for (const child of tables) if (parentsOf(child).includes(table)) visit(child);
    if (!placed.includes(table)) placed.push(table);
  };
  for (const table of [...tables].reverse()) visit(table);
  return placed;
}
