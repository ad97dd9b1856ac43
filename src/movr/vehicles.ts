// Vehicles: listing a city's, adding one, retiring one.
//
// The workload schema ties a vehicle's owner to the vehicle's city (vehicles (city, owner_id) →
// users (city, id)), so owners add vehicles in their home city.
import { randomUUID } from 'node:crypto';
import { type SQL, and, asc, count, eq, gt, isNull, ne, or, sql } from 'drizzle-orm';
import type { Database, Executor } from '../db/connect.ts';
import { rides, users, vehicles } from '../db/schema.ts';
import { runTransaction } from '../db/transaction.ts';
import { findCity } from './cities.ts';
import { ConflictError, type FieldError, ForbiddenError, NotFoundError, ValidationError } from './errors.ts';
import { VEHICLE_TYPES, type VehicleType } from './pricing.ts';
import { type UserRef, requireActiveUser } from './users.ts';

export { VEHICLE_TYPES, type VehicleType };

/** The status of a vehicle taken out of service for good; such vehicles are not offered or counted. */
export const RETIRED = 'retired';
export const VEHICLE_STATUSES = ['available', 'in_use', 'lost', RETIRED] as const;
export type VehicleStatus = (typeof VEHICLE_STATUSES)[number];

export const VEHICLE_COLORS = ['black', 'blue', 'green', 'red', 'white', 'yellow', 'orange', 'silver'] as const;
export const LOCATION_MAX_LENGTH = 200;
const BRAND_MAX_LENGTH = 40;

export interface Vehicle {
  readonly id: string;
  readonly city: string;
  readonly type: string | null;
  readonly status: string | null;
  readonly currentLocation: string | null;
  readonly color: string | null;
  readonly brand: string | null;
  readonly ownerId: string | null;
  /** Null when the vehicle has no owner or the owner deleted their account. */
  readonly ownerName: string | null;
  readonly creationTime: Date | null;
}

export interface Page<T> {
  items: T[];
  /** Pass back to get the next page; null on the last page. */
  nextCursor: string | null;
}

export interface VehicleFilter {
  city: string;
  type?: string | undefined;
  status?: string | undefined;
  limit?: number | undefined;
  /** The nextCursor of the previous page. */
  cursor?: string | undefined;
}

export const MAX_PAGE_SIZE = 100;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A page size between 1 and MAX_PAGE_SIZE: whole, 20 when not given or not a number. */
export function pageSize(limit: number | undefined): number {
  const size = limit === undefined || Number.isNaN(limit) ? 20 : Math.trunc(limit);
  return Math.min(Math.max(size, 1), MAX_PAGE_SIZE);
}

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

function textOf(ext: Record<string, unknown> | null, key: string): string | null {
  const value = ext?.[key];
  return typeof value === 'string' ? value : null;
}

const vehicleColumns = {
  id: vehicles.id,
  city: vehicles.city,
  type: vehicles.type,
  status: vehicles.status,
  currentLocation: vehicles.currentLocation,
  ext: vehicles.ext,
  ownerId: vehicles.ownerId,
  ownerName: users.name,
  creationTime: vehicles.creationTime,
};

type VehicleRow = {
  [K in keyof typeof vehicleColumns]: (typeof vehicleColumns)[K]['_']['notNull'] extends true
    ? (typeof vehicleColumns)[K]['_']['data']
    : (typeof vehicleColumns)[K]['_']['data'] | null;
};

function toVehicle(row: VehicleRow): Vehicle {
  return {
    id: row.id,
    city: row.city,
    type: row.type,
    status: row.status,
    currentLocation: row.currentLocation,
    color: textOf(row.ext, 'color'),
    brand: textOf(row.ext, 'brand'),
    ownerId: row.ownerId,
    ownerName: row.ownerName,
    creationTime: row.creationTime,
  };
}

function selectVehicles(db: Executor) {
  return db
    .select(vehicleColumns)
    .from(vehicles)
    .leftJoin(users, and(eq(users.city, vehicles.city), eq(users.id, vehicles.ownerId)));
}

/**
 * A city's vehicles in id order, a page at a time (keyset pagination: the cursor is the last id
 * seen). Retired vehicles are left out unless asked for by status.
 */
export async function listVehicles(db: Executor, filter: VehicleFilter): Promise<Page<Vehicle>> {
  const limit = pageSize(filter.limit);
  const conditions: (SQL | undefined)[] = [eq(vehicles.city, filter.city)];
  if (filter.type) conditions.push(eq(vehicles.type, filter.type));
  if (filter.status) conditions.push(eq(vehicles.status, filter.status));
  else conditions.push(or(isNull(vehicles.status), ne(vehicles.status, RETIRED)));
  if (filter.cursor !== undefined) {
    if (!isUuid(filter.cursor)) throw ValidationError.field('cursor', 'That page link is not valid.');
    conditions.push(gt(vehicles.id, filter.cursor));
  }
  const rows = await selectVehicles(db)
    .where(and(...conditions))
    .orderBy(asc(vehicles.id))
    .limit(limit + 1);
  const items = rows.slice(0, limit).map(toVehicle);
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}

/** How many vehicles the load generator's city read returns at most. */
export const CITY_VEHICLES_LIMIT = 100;

/** A prepared city read: the number of vehicles it returned for the city. */
export interface CityVehiclesRead {
  (city: string): Promise<number>;
  /** The statement sent, with $1 for the city: what `scripts/bench-read.sh` gives pgbench. */
  readonly sql: string;
}

/**
 * The hot read of the load generator (`movr workload run`): the city and id of up to
 * CITY_VEHICLES_LIMIT of a city's vehicles, the SELECT of the CockroachDB movr workload with a
 * LIMIT so a large data set does not make every read a scan of a city. Prepared once per
 * database handle, then run many times: on PostgreSQL a named statement, parsed once per
 * connection; rows come back as arrays and are only counted.
 */
export function prepareCityVehiclesRead(db: Executor): CityVehiclesRead {
  const query = db
    .select({ city: vehicles.city, id: vehicles.id })
    .from(vehicles)
    .where(eq(vehicles.city, sql.placeholder('city')))
    .limit(CITY_VEHICLES_LIMIT)
    .prepare('movr_city_vehicles');
  const text = query.getQuery().sql.replace(/\$2\b/, String(CITY_VEHICLES_LIMIT));
  const read = async (city: string) => (await query.execute({ city })).length;
  return Object.assign(read, { sql: text });
}

export async function getVehicle(db: Executor, city: string, id: string): Promise<Vehicle> {
  const [row] = isUuid(id)
    ? await selectVehicles(db)
        .where(and(eq(vehicles.city, city), eq(vehicles.id, id)))
        .limit(1)
    : [];
  if (!row) throw new NotFoundError('There is no such vehicle.', 'vehicle_not_found');
  return toVehicle(row);
}

/** An owner's vehicles, retired ones included (their history is kept). */
export async function listOwnedVehicles(db: Executor, owner: UserRef): Promise<Vehicle[]> {
  const rows = await selectVehicles(db)
    .where(and(eq(vehicles.city, owner.city), eq(vehicles.ownerId, owner.id)))
    .orderBy(asc(vehicles.creationTime), asc(vehicles.id));
  return rows.map(toVehicle);
}

export interface NewVehicle {
  type: string;
  color: string;
  brand?: string | null | undefined;
  location: string;
  /** Must be the owner's home city when given (see the note at the top). */
  city?: string | undefined;
}

export async function addVehicle(
  db: Database,
  owner: UserRef,
  input: NewVehicle,
  options: { now?: Date } = {},
): Promise<Vehicle> {
  const problems: FieldError[] = [];
  const type = input.type.trim().toLowerCase();
  const color = input.color.trim().toLowerCase();
  const brand = input.brand?.trim() || null;
  const location = input.location.trim();
  const city = input.city ?? owner.city;
  if (!(VEHICLE_TYPES as readonly string[]).includes(type)) {
    problems.push({ path: 'type', message: `Choose one of: ${VEHICLE_TYPES.join(', ')}.` });
  }
  if (!(VEHICLE_COLORS as readonly string[]).includes(color)) {
    problems.push({ path: 'color', message: `Choose one of: ${VEHICLE_COLORS.join(', ')}.` });
  }
  if (brand && brand.length > BRAND_MAX_LENGTH) problems.push({ path: 'brand', message: `Use at most ${BRAND_MAX_LENGTH} characters.` });
  if (location.length === 0) problems.push({ path: 'location', message: 'Enter where the vehicle is parked.' });
  else if (location.length > LOCATION_MAX_LENGTH) {
    problems.push({ path: 'location', message: `Use at most ${LOCATION_MAX_LENGTH} characters.` });
  }
  if (!findCity(city)) problems.push({ path: 'city', message: 'Choose one of the cities MovR serves.' });
  else if (city !== owner.city) {
    problems.push({ path: 'city', message: `Vehicles are registered in your home city, ${owner.city}.` });
  }
  if (problems.length > 0) throw new ValidationError(problems.length === 1 ? problems[0]!.message : 'Some of the details are not valid.', problems);

  const id = randomUUID();
  await runTransaction(db, 'add_vehicle', async (tx) => {
    await requireActiveUser(tx, owner);
    await tx.insert(vehicles).values({
      id,
      city,
      type,
      ownerId: owner.id,
      creationTime: options.now ?? new Date(),
      status: 'available',
      currentLocation: location,
      ext: brand ? { color, brand } : { color },
    });
  });
  return getVehicle(db.orm, city, id);
}

/** Takes the owner's own vehicle out of service for good; not while someone rides it. */
export async function retireVehicle(db: Database, owner: UserRef, city: string, id: string): Promise<Vehicle> {
  await runTransaction(db, 'retire_vehicle', async (tx) => {
    const vehicle = await getVehicle(tx, city, id);
    if (vehicle.ownerId !== owner.id || vehicle.city !== owner.city) {
      throw new ForbiddenError('You can only retire your own vehicles.', 'not_vehicle_owner');
    }
    if (vehicle.status === RETIRED) throw new ConflictError('This vehicle is already retired.', 'vehicle_retired');
    const [open] = await tx
      .select({ id: rides.id })
      .from(rides)
      .where(and(eq(rides.vehicleCity, city), eq(rides.vehicleId, id), isNull(rides.endTime)))
      .limit(1);
    if (open || vehicle.status === 'in_use') {
      throw new ConflictError('Someone is riding this vehicle. Retire it once the ride has ended.', 'vehicle_in_use');
    }
    await tx.update(vehicles).set({ status: RETIRED }).where(and(eq(vehicles.city, city), eq(vehicles.id, id)));
  });
  return getVehicle(db.orm, city, id);
}

/**
 * How many vehicles each city has, retired ones excluded, in one GROUP BY query. Cities without
 * vehicles are absent from the map (read them as 0).
 */
export async function countVehiclesByCity(db: Executor): Promise<Map<string, number>> {
  const rows = await db
    .select({ city: vehicles.city, vehicles: count() })
    .from(vehicles)
    .where(or(isNull(vehicles.status), ne(vehicles.status, RETIRED)))
    .groupBy(vehicles.city);
  return new Map(rows.map((row) => [row.city, row.vehicles]));
}
