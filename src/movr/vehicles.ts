// Vehicles: listing a city's, adding one, retiring one.
//
// The workload schema ties a vehicle's owner to the vehicle's city (vehicles (city, owner_id) →
// users (city, id)), so owners add vehicles in their home city.
import { randomUUID } from 'node:crypto';
import { type SQL, and, asc, count, eq, gt, isNull, ne, notInArray, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import { type Database, type Executor, type Queryable, type Transaction, executorOf } from '../db/connect.ts';
import { type LeanStatement, type TextRow, leanRows, leanStatement, placeholder, textJson, textNumber, textTimestamp } from '../db/lean.ts';
import { rides, users, vehicles } from '../db/schema.ts';
import { METRES_PER_DEGREE, metresPerDegreeLong } from '../region-map.ts';
import { runTransaction } from '../db/transaction.ts';
import { ValidationError, domainError } from './errors.ts';
import {
  Brand,
  INVALID_PAGE_LINK,
  MAX_VEHICLES_PER_OWNER,
  OUT_OF_SERVICE,
  type Page,
  ParkingSpot,
  Point,
  RETIRED,
  VehicleColorSchema,
  VehicleTypeSchema,
  citySchema,
  isUuid,
  loose,
  pageSize,
  parseInput,
} from './rules.ts';
import { type Cities, type UserRef, requireActiveUser } from './users.ts';

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
  /** Where the vehicle is parked (degrees); null when unknown (data from elsewhere). */
  readonly lat: number | null;
  readonly long: number | null;
}

export interface VehicleFilter {
  city: string;
  type?: string | undefined;
  status?: string | undefined;
  limit?: number | undefined;
  /** The nextCursor of the previous page. */
  cursor?: string | undefined;
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
  lat: vehicles.lat,
  long: vehicles.long,
};

type VehicleRow = {
  [K in keyof typeof vehicleColumns]: (typeof vehicleColumns)[K]['_']['notNull'] extends true
    ? (typeof vehicleColumns)[K]['_']['data']
    : (typeof vehicleColumns)[K]['_']['data'] | null;
};

export function toVehicle(row: VehicleRow): Vehicle {
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
    lat: row.lat,
    long: row.long,
  };
}

export function selectVehicles(db: Queryable) {
  return executorOf(db)
    .select(vehicleColumns)
    .from(vehicles)
    .leftJoin(users, and(eq(users.city, vehicles.city), eq(users.id, vehicles.ownerId)));
}

/**
 * A city's vehicles in id order, a page at a time (keyset pagination: the cursor is the last id
 * seen): what riders are offered. Lost and retired vehicles are never listed, whatever the
 * status asked for (operators see them in the fleet, src/movr/fleet.ts).
 */
export async function listVehicles(db: Queryable, filter: VehicleFilter): Promise<Page<Vehicle>> {
  const limit = pageSize(filter.limit);
  if (filter.cursor !== undefined && !isUuid(filter.cursor)) throw ValidationError.field('cursor', INVALID_PAGE_LINK);
  const variant = { type: Boolean(filter.type), status: Boolean(filter.status), cursor: filter.cursor !== undefined };
  const items = await leanRows(db, listStatement(variant), {
    city: filter.city,
    type: filter.type,
    status: filter.status,
    cursor: filter.cursor,
    limit: limit + 1,
  });
  const page = items.slice(0, limit);
  return { items: page, nextCursor: items.length > limit ? (page.at(-1)?.id ?? null) : null };
}

/** How many text fields a vehicle row has (the columns of vehicleColumns). */
const VEHICLE_FIELD_COUNT = Object.keys(vehicleColumns).length;

/** A vehicle row's text fields, in the order of vehicleColumns, as a Vehicle. */
function vehicleFromText(fields: TextRow): Vehicle {
  const [id, city, type, status, currentLocation, ext, ownerId, ownerName, creationTime, lat, long] = fields;
  const extension = textJson<Record<string, unknown>>(ext ?? null);
  return toVehicle({
    id: id!,
    city: city!,
    type: type ?? null,
    status: status ?? null,
    currentLocation: currentLocation ?? null,
    ext: extension,
    ownerId: ownerId ?? null,
    ownerName: ownerName ?? null,
    creationTime: textTimestamp(creationTime ?? null),
    lat: textNumber(lat ?? null),
    long: textNumber(long ?? null),
  });
}

/** Vehicles riders may see: neither lost nor retired (NULL, from workload data, counts as in service). */
const offeredToRiders = or(isNull(vehicles.status), notInArray(vehicles.status, [...OUT_OF_SERVICE]));

/** The lists, one statement per combination of filters (the busiest read of the site and API). */
const listStatements = new Map<string, LeanStatement<Vehicle>>();

function listStatement(variant: { type: boolean; status: boolean; cursor: boolean }): LeanStatement<Vehicle> {
  const name = `movr_vehicles${variant.type ? '_type' : ''}${variant.status ? '_status' : ''}${variant.cursor ? '_after' : ''}`;
  let statement = listStatements.get(name);
  if (!statement) {
    statement = leanStatement(
      name,
      (db) => {
        const conditions: (SQL | undefined)[] = [eq(vehicles.city, placeholder('city'))];
        if (variant.type) conditions.push(eq(vehicles.type, placeholder('type')));
        if (variant.status) conditions.push(eq(vehicles.status, placeholder('status')));
        conditions.push(offeredToRiders);
        if (variant.cursor) conditions.push(gt(vehicles.id, placeholder('cursor')));
        return selectVehicles(db).where(and(...conditions)).orderBy(asc(vehicles.id)).limit(placeholder('limit'));
      },
      vehicleFromText,
    );
    listStatements.set(name, statement);
  }
  return statement;
}

// ---- near me ----------------------------------------------------------------------------------

/** A vehicle and how far it is from the point asked about, in metres. */
export interface NearbyVehicle extends Vehicle {
  readonly distanceM: number;
}

export interface NearFilter {
  city: string;
  lat: number;
  long: number;
  type?: string | undefined;
  limit?: number | undefined;
}


/**
 * The half-widths of the boxes searched, in metres, smallest first; after the last, the whole
 * city. A box of half-width r holds every vehicle within r, so once it holds `limit` of them
 * those are the nearest (docs/decisions/0020-near-me.md).
 */
export const NEAR_SEARCH_RADII_M: readonly number[] = [500, 2_000, 10_000, 50_000];

/**
 * The distance from (lat, long) in metres, as SQL: the equirectangular approximation, exact to
 * well under 1% at the scale of a city (not across the antimeridian or at the poles).
 */
function distanceSql() {
  return sql<string>`sqrt(power((${vehicles.lat} - ${placeholder('lat')}::float8) * ${METRES_PER_DEGREE}, 2) + power((${vehicles.long} - ${placeholder('long')}::float8) * ${placeholder('metresPerDegreeLong')}::float8, 2))`;
}

const nearStatements = new Map<string, LeanStatement<NearbyVehicle>>();

function nearStatement(variant: { type: boolean; box: boolean }): LeanStatement<NearbyVehicle> {
  const name = `movr_vehicles_near${variant.type ? '_type' : ''}${variant.box ? '_box' : ''}`;
  let statement = nearStatements.get(name);
  if (!statement) {
    statement = leanStatement(
      name,
      (db) => {
        const distance = distanceSql();
        const conditions: (SQL | undefined)[] = [eq(vehicles.city, placeholder('city')), eq(vehicles.status, 'available')];
        if (variant.type) conditions.push(eq(vehicles.type, placeholder('type')));
        if (variant.box) {
          // Both ranges on the (city, lat, long) index: lat bounds the scan, long filters it.
          conditions.push(
            sql`${vehicles.lat} BETWEEN ${placeholder('latMin')}::float8 AND ${placeholder('latMax')}::float8`,
            sql`${vehicles.long} BETWEEN ${placeholder('longMin')}::float8 AND ${placeholder('longMax')}::float8`,
          );
        } else {
          conditions.push(sql`${vehicles.lat} IS NOT NULL`, sql`${vehicles.long} IS NOT NULL`);
        }
        // The nearest ids first, from the index and the rows' positions alone; then only those
        // rows are read in full and joined to their owners.
        const nearest = db
          .select({ city: vehicles.city, id: vehicles.id, distance: distance.as('distance') })
          .from(vehicles)
          .where(and(...conditions))
          .orderBy(distance, asc(vehicles.id))
          .limit(placeholder('limit'))
          .as('nearest');
        return db
          .select({ ...vehicleColumns, distance: nearest.distance })
          .from(nearest)
          .innerJoin(vehicles, and(eq(vehicles.city, nearest.city), eq(vehicles.id, nearest.id)))
          .leftJoin(users, and(eq(users.city, vehicles.city), eq(users.id, vehicles.ownerId)))
          .orderBy(nearest.distance, asc(vehicles.id));
      },
      (fields) => ({ ...vehicleFromText(fields), distanceM: Math.round(Number(fields[VEHICLE_FIELD_COUNT])) }),
    );
    nearStatements.set(name, statement);
  }
  return statement;
}

/**
 * A city's available vehicles nearest to a point first, with their distance: boxes of growing
 * size around the point on the (city, lat, long) index, until one holds enough vehicles.
 * Vehicles without a position are never listed.
 */
export async function listVehiclesNear(db: Queryable, filter: NearFilter): Promise<NearbyVehicle[]> {
  const { lat, long } = parseInput(Point, { lat: filter.lat, long: filter.long });
  const limit = pageSize(filter.limit);
  const perDegreeLong = metresPerDegreeLong(lat);
  const base = { city: filter.city, type: filter.type, lat, long, metresPerDegreeLong: perDegreeLong, limit };
  for (const radius of NEAR_SEARCH_RADII_M) {
    const dLat = radius / METRES_PER_DEGREE;
    const dLong = radius / perDegreeLong;
    const rows = await leanRows(db, nearStatement({ type: Boolean(filter.type), box: true }), {
      ...base,
      latMin: lat - dLat,
      latMax: lat + dLat,
      longMin: long - dLong,
      longMax: long + dLong,
    });
    // Rows come nearest first: those within the radius are a prefix, and exactly the nearest.
    const within = rows.filter((row) => row.distanceM < radius);
    if (within.length >= limit) return within;
  }
  return leanRows(db, nearStatement({ type: Boolean(filter.type), box: false }), base);
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

export async function getVehicle(db: Queryable, city: string, id: string): Promise<Vehicle> {
  const [row] = isUuid(id)
    ? await selectVehicles(db)
        .where(and(eq(vehicles.city, city), eq(vehicles.id, id)))
        .limit(1)
    : [];
  if (!row) throw domainError('vehicle_not_found');
  return toVehicle(row);
}

/**
 * An owner's vehicles, retired ones included (their history is kept), a page at a time in id
 * order (keyset pagination: the cursor is the last id, as for a city's vehicles).
 */
export async function listOwnedVehicles(
  db: Queryable,
  owner: UserRef,
  options: { limit?: number | undefined; cursor?: string | undefined } = {},
): Promise<Page<Vehicle>> {
  if (options.cursor !== undefined && !isUuid(options.cursor)) throw ValidationError.field('cursor', INVALID_PAGE_LINK);
  const limit = pageSize(options.limit);
  const rows = await selectVehicles(db)
    .where(and(eq(vehicles.city, owner.city), eq(vehicles.ownerId, owner.id), options.cursor ? gt(vehicles.id, options.cursor) : undefined))
    .orderBy(asc(vehicles.id))
    .limit(limit + 1);
  const items = rows.slice(0, limit).map(toVehicle);
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}

/** How many vehicles an owner has in service and retired. */
export async function countOwnedVehicles(db: Queryable, owner: UserRef): Promise<{ active: number; retired: number }> {
  const [row] = await executorOf(db)
    .select({
      total: sql<number>`count(*)::int`,
      retired: sql<number>`count(*) FILTER (WHERE ${vehicles.status} = ${RETIRED})::int`,
    })
    .from(vehicles)
    .where(and(eq(vehicles.city, owner.city), eq(vehicles.ownerId, owner.id)));
  const retired = Number(row?.retired ?? 0);
  return { active: Number(row?.total ?? 0) - retired, retired };
}

export interface NewVehicle {
  type: string;
  color: string;
  brand?: string | null | undefined;
  location: string;
  /** Where exactly it is parked, if known. */
  position?: { lat: number; long: number } | null | undefined;
  /** Must be the owner's home city when given (see the note at the top). */
  city?: string | undefined;
}

function newVehicleSchema(regions: Cities['regions'], owner: UserRef) {
  return z.object({
    type: loose(VehicleTypeSchema),
    color: loose(VehicleColorSchema),
    brand: Brand.nullish(),
    location: ParkingSpot,
    position: Point.nullish(),
    city: citySchema(regions).refine((city) => city === owner.city, `Vehicles are registered in your home city, ${owner.city}.`),
  });
}

export async function addVehicle(
  db: Database,
  owner: UserRef,
  input: NewVehicle,
  options: Cities & { now?: Date },
): Promise<Vehicle> {
  const { type, color, brand, location, position, city } = parseInput(newVehicleSchema(options.regions, owner), {
    ...input,
    city: input.city ?? owner.city,
  });
  const id = randomUUID();
  await runTransaction(db, 'add_vehicle', async (tx) => {
    await requireActiveUser(tx, owner);
    const [owned] = await tx
      .select({ vehicles: count() })
      .from(vehicles)
      .where(and(eq(vehicles.city, owner.city), eq(vehicles.ownerId, owner.id), or(isNull(vehicles.status), ne(vehicles.status, RETIRED))));
    if (Number(owned?.vehicles ?? 0) >= MAX_VEHICLES_PER_OWNER) throw domainError('vehicle_limit_reached', { max: MAX_VEHICLES_PER_OWNER });
    await tx.insert(vehicles).values({
      id,
      city,
      type,
      ownerId: owner.id,
      creationTime: options.now ?? new Date(),
      status: 'available',
      currentLocation: location,
      ext: brand ? { color, brand } : { color },
      lat: position?.lat ?? null,
      long: position?.long ?? null,
    });
  });
  return getVehicle(db, city, id);
}

/** Takes the owner's own vehicle out of service for good; not while someone rides it. */
export async function retireVehicle(db: Database, owner: UserRef, city: string, id: string): Promise<Vehicle> {
  await runTransaction(db, 'retire_vehicle', async (tx) => {
    const vehicle = await getVehicle(tx, city, id);
    if (vehicle.ownerId !== owner.id || vehicle.city !== owner.city) throw domainError('not_vehicle_owner');
    if (vehicle.status === RETIRED) throw domainError('vehicle_retired');
    const [open] = await tx
      .select({ id: rides.id })
      .from(rides)
      .where(and(eq(rides.vehicleCity, city), eq(rides.vehicleId, id), isNull(rides.endTime)))
      .limit(1);
    if (open || vehicle.status === 'in_use') throw domainError('vehicle_in_use');
    await tx.update(vehicles).set({ status: RETIRED }).where(and(eq(vehicles.city, city), eq(vehicles.id, id)));
  });
  return getVehicle(db, city, id);
}

/**
 * How many vehicles each city offers riders (lost and retired ones excluded), in one GROUP BY query. Cities without
 * vehicles are absent from the map (read them as 0).
 */
export async function countVehiclesByCity(db: Queryable): Promise<Map<string, number>> {
  const rows = await executorOf(db)
    .select({ city: vehicles.city, vehicles: count() })
    .from(vehicles)
    .where(offeredToRiders)
    .groupBy(vehicles.city);
  return new Map(rows.map((row) => [row.city, row.vehicles]));
}
