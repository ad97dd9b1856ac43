// Rides: starting one, recording where it goes, ending it with a fare, and the rider's history.
//
// The database guarantees what matters most even against concurrent requests: a vehicle and a
// rider each have at most one open ride (partial unique indexes), and every transaction is
// SERIALIZABLE and retried on conflict, so two riders racing for one vehicle get exactly one ride.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { and, desc, eq, gt, isNull, lt, or, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { type Database, type Queryable, type Transaction, executorOf } from '../db/connect.ts';
import { UNIQUE_VIOLATION, sqlState, violatedConstraint } from '../db/errors.ts';
import { leanRows, leanStatement, placeholder } from '../db/lean.ts';
import { preparedOnce } from '../db/prepared.ts';
import { rideReceipts, rides, users, vehicleLocationHistories, vehicles } from '../db/schema.ts';
import { type Statement, runStatement } from '../db/statements.ts';
import { runTransaction } from '../db/transaction.ts';
import { ValidationError, domainError } from './errors.ts';
import type { RideStats } from './ride-stats.ts';
import { type Fare, type PriceList, centsToDecimal, computeFare, decimalToCents } from './pricing.ts';
import { bestPromoCode, heldPromoCodes, heldPromoCodesJson } from './promo-codes.ts';
import {
  EndAddress,
  INVALID_PAGE_LINK,
  MAX_POINTS_PER_RIDE,
  type Page,
  Point,
  RETIRED,
  isUuid,
  pageSize,
  parseInput,
} from './rules.ts';
import type { UserRef } from './users.ts';
import { getVehicle } from './vehicles.ts';

export interface RideRef {
  readonly city: string;
  readonly id: string;
}

export interface Receipt extends Fare {
  readonly promoCode: string | null;
  readonly vehicleType: string | null;
}

export interface Ride extends RideRef {
  readonly vehicleCity: string | null;
  readonly vehicleId: string | null;
  readonly riderId: string | null;
  readonly vehicleType: string | null;
  readonly startAddress: string | null;
  readonly endAddress: string | null;
  readonly startTime: Date | null;
  readonly endTime: Date | null;
  /** What the rider paid, in cents; null while the ride is open. */
  readonly revenueCents: number | null;
  /** How the revenue came about; null for open rides and rides MovR did not end itself. */
  readonly receipt: Receipt | null;
}

/**
 * Runs inside a ride's transaction, after its work, with the ride as it will be committed:
 * what must commit or fail together with the ride (e.g. an idempotency record) goes here.
 */
export type InTransaction = (tx: Transaction, ride: Ride) => Promise<void>;

/** The message of a location with a bad coordinate. */
export const INVALID_LOCATION = 'That is not a valid location.';

export interface LocationPoint {
  readonly timestamp: Date;
  readonly lat: number;
  readonly long: number;
}

const rideColumns = {
  ride: rides,
  vehicleType: vehicles.type,
  receipt: rideReceipts,
};

type RideRow = {
  ride: typeof rides.$inferSelect;
  vehicleType: string | null;
  receipt: typeof rideReceipts.$inferSelect | null;
};

function toRide({ ride, vehicleType, receipt }: RideRow): Ride {
  return {
    id: ride.id,
    city: ride.city,
    vehicleCity: ride.vehicleCity,
    vehicleId: ride.vehicleId,
    riderId: ride.riderId,
    vehicleType,
    startAddress: ride.startAddress,
    endAddress: ride.endAddress,
    startTime: ride.startTime,
    endTime: ride.endTime,
    revenueCents: ride.revenue === null ? null : decimalToCents(ride.revenue),
    receipt: receipt && {
      minutes: receipt.minutes,
      unlockCents: receipt.unlockCents,
      perMinuteCents: receipt.perMinuteCents,
      fareCents: receipt.fareCents,
      discountPercent: receipt.discountPercent,
      discountCents: receipt.discountCents,
      totalCents: receipt.totalCents,
      promoCode: receipt.promoCode,
      vehicleType: receipt.vehicleType,
    },
  };
}

function selectRides(db: Queryable) {
  return executorOf(db)
    .select(rideColumns)
    .from(rides)
    .leftJoin(vehicles, and(eq(vehicles.city, rides.vehicleCity), eq(vehicles.id, rides.vehicleId)))
    .leftJoin(rideReceipts, and(eq(rideReceipts.city, rides.city), eq(rideReceipts.rideId, rides.id)));
}

/** The rider's ride; NotFoundError for anyone else's, so other riders' rides stay invisible. */
export async function getRide(db: Queryable, rider: UserRef, ref: RideRef): Promise<Ride> {
  const [row] = isUuid(ref.id)
    ? await selectRides(db)
        .where(and(eq(rides.city, ref.city), eq(rides.id, ref.id), eq(rides.riderId, rider.id), eq(rides.city, rider.city)))
        .limit(1)
    : [];
  if (!row) throw domainError('ride_not_found');
  return toRide(row);
}

export async function findOpenRide(db: Queryable, rider: UserRef): Promise<Ride | undefined> {
  const [row] = await selectRides(db)
    .where(and(eq(rides.city, rider.city), eq(rides.riderId, rider.id), isNull(rides.endTime)))
    .limit(1);
  return row ? toRide(row) : undefined;
}

/** The rider's open ride, if any, as a reference: what the vehicle list needs (one key look-up). */
const openRideRef = leanStatement(
  'movr_open_ride_ref',
  (db) =>
    db
      .select({ city: rides.city, id: rides.id })
      .from(rides)
      .where(and(eq(rides.city, placeholder('city')), eq(rides.riderId, placeholder('riderId')), isNull(rides.endTime)))
      .limit(1),
  ([city, id]): RideRef => ({ city: city!, id: id! }),
);

export async function findOpenRideRef(db: Queryable, rider: UserRef): Promise<RideRef | undefined> {
  const [ref] = await leanRows(db, openRideRef, { city: rider.city, riderId: rider.id });
  return ref;
}

/** What starting a ride reads, in one statement: the rider's row and the vehicle's. */
function startRideRead(tx: Transaction) {
  return preparedOnce(tx, 'movr_start_ride_read', (executor, name) =>
    executor
      .select({
        riderName: users.name,
        vehicleId: vehicles.id,
        vehicleCity: vehicles.city,
        vehicleType: vehicles.type,
        vehicleStatus: vehicles.status,
        vehicleLocation: vehicles.currentLocation,
      })
      .from(users)
      .leftJoin(vehicles, and(eq(vehicles.city, sql.placeholder('vehicleCity')), eq(vehicles.id, sql.placeholder('vehicleId'))))
      .where(and(eq(users.city, sql.placeholder('riderCity')), eq(users.id, sql.placeholder('riderId'))))
      .limit(1)
      .prepare(name),
  );
}

/** The ride and the vehicle taken, in one statement. */
const START_RIDE: Statement = {
  name: 'movr_start_ride',
  text: `WITH started AS (
  INSERT INTO rides (id, city, vehicle_city, rider_id, vehicle_id, start_address, start_time)
  VALUES ($1, $2, $2, $3, $4, $5, $6)
  RETURNING id
)
UPDATE vehicles SET status = 'in_use' WHERE city = $2 AND id = $4 AND EXISTS (SELECT 1 FROM started)`,
};

/**
 * Starts a ride on an available vehicle in the rider's home city: one read (the rider, who must
 * exist and not be deleted, and the vehicle), one write (the ride, the vehicle in use). A rider
 * with an open ride is refused by the partial unique index on open rides, not by a read: a read
 * of the rider's rides would take SERIALIZABLE predicate locks that make concurrent riders
 * conflict with each other.
 */
export async function startRide(
  db: Database,
  rider: UserRef,
  vehicleRef: { city: string; id: string },
  options: { now?: Date; inTransaction?: InTransaction; stats?: RideStats } = {},
): Promise<Ride> {
  const id = randomUUID();
  try {
    const ride = await runTransaction(db, 'start_ride', async (tx) => {
      const now = options.now ?? new Date();
      // A malformed id names no vehicle (and must not reach the uuid column).
      const vehicleId = isUuid(vehicleRef.id) ? vehicleRef.id : null;
      const [row] = await startRideRead(tx).execute({ riderCity: rider.city, riderId: rider.id, vehicleCity: vehicleRef.city, vehicleId });
      if (!row || row.riderName === null) throw domainError('user_not_found');
      if (!row?.vehicleId || !row.vehicleCity) throw domainError('vehicle_not_found');
      if (row.vehicleCity !== rider.city) throw domainError('outside_home_city', { homeCity: rider.city });
      if (row.vehicleStatus !== 'available') throw domainError('vehicle_unavailable');
      await runStatement(tx, START_RIDE, [id, row.vehicleCity, rider.id, row.vehicleId, row.vehicleLocation, now.toISOString()]);
      const started: Ride = {
        id,
        city: row.vehicleCity,
        vehicleCity: row.vehicleCity,
        vehicleId: row.vehicleId,
        riderId: rider.id,
        vehicleType: row.vehicleType,
        startAddress: row.vehicleLocation,
        endAddress: null,
        startTime: now,
        endTime: null,
        revenueCents: null,
        receipt: null,
      };
      await options.inTransaction?.(tx, started);
      return started;
    });
    options.stats?.recordStart(ride.city);
    return ride;
  } catch (error) {
    // The partial unique indexes have the last word on open rides.
    if (sqlState(error) === UNIQUE_VIOLATION) {
      const constraint = violatedConstraint(error);
      if (constraint === 'rides_one_open_ride_per_rider') throw domainError('ride_already_open');
      if (constraint === 'rides_one_open_ride_per_vehicle') throw domainError('vehicle_unavailable');
    }
    throw error;
  }
}

/**
 * Records where an open ride's vehicle is now. Points are keyed by their millisecond: a second
 * point in the same millisecond is stored only if it is the same point (a retry), and answered
 * with what is stored; a different one is refused (409 location_conflict), never dropped
 * silently. A ride holds at most MAX_POINTS_PER_RIDE points (409 ride_points_limit).
 */
export async function recordLocation(
  db: Database,
  rider: UserRef,
  ref: RideRef,
  point: { lat: number; long: number },
  options: { now?: Date } = {},
): Promise<LocationPoint> {
  const { lat, long } = parseInput(Point, point, { message: INVALID_LOCATION, always: true });
  const timestamp = options.now ?? new Date();
  return runTransaction(db, 'record_location', async (tx) => {
    const ride = await getRide(tx, rider, ref);
    if (ride.endTime) throw domainError('ride_already_ended');
    if ((await countLocations(tx, ride)) >= MAX_POINTS_PER_RIDE) throw domainError('ride_points_limit', { max: MAX_POINTS_PER_RIDE });
    const inserted = await tx
      .insert(vehicleLocationHistories)
      .values({ city: ride.city, rideId: ride.id, timestamp, lat, long })
      .onConflictDoNothing()
      .returning({ timestamp: vehicleLocationHistories.timestamp });
    if (inserted.length > 0) return { timestamp, lat, long };
    const [stored] = await tx
      .select({ lat: vehicleLocationHistories.lat, long: vehicleLocationHistories.long })
      .from(vehicleLocationHistories)
      .where(
        and(
          eq(vehicleLocationHistories.city, ride.city),
          eq(vehicleLocationHistories.rideId, ride.id),
          eq(vehicleLocationHistories.timestamp, timestamp),
        ),
      );
    if (stored && stored.lat === lat && stored.long === long) return { timestamp, lat, long };
    throw domainError('location_conflict');
  });
}

/** How many location points a ride of the rider has. */
export async function countLocations(db: Queryable, ride: RideRef): Promise<number> {
  const [row] = await executorOf(db)
    .select({ points: sql<number>`count(*)::int` })
    .from(vehicleLocationHistories)
    .where(and(eq(vehicleLocationHistories.city, ride.city), eq(vehicleLocationHistories.rideId, ride.id)));
  return Number(row?.points ?? 0);
}

/**
 * Where a ride went: every recorded point's position, oldest first (at most MAX_POINTS_PER_RIDE),
 * for drawing its route. The caller has the ride already (getRide checked it is the rider's).
 */
export async function routeOf(db: Queryable, ride: RideRef): Promise<{ lat: number; long: number }[]> {
  const rows = await executorOf(db)
    .select({ lat: vehicleLocationHistories.lat, long: vehicleLocationHistories.long })
    .from(vehicleLocationHistories)
    .where(and(eq(vehicleLocationHistories.city, ride.city), eq(vehicleLocationHistories.rideId, ride.id)))
    .orderBy(vehicleLocationHistories.timestamp)
    .limit(MAX_POINTS_PER_RIDE);
  return rows.flatMap((row) => (row.lat === null || row.long === null ? [] : [{ lat: row.lat, long: row.long }]));
}

/** The ride's location points, oldest first, a page at a time (keyset on the timestamp). */
export async function listLocations(
  db: Queryable,
  rider: UserRef,
  ref: RideRef,
  options: { limit?: number | undefined; cursor?: string | undefined } = {},
): Promise<Page<LocationPoint>> {
  const limit = pageSize(options.limit);
  const after = options.cursor === undefined ? undefined : decodeTimeCursor(options.cursor);
  const ride = await getRide(db, rider, ref);
  const rows = await executorOf(db)
    .select({ timestamp: vehicleLocationHistories.timestamp, lat: vehicleLocationHistories.lat, long: vehicleLocationHistories.long })
    .from(vehicleLocationHistories)
    .where(
      and(
        eq(vehicleLocationHistories.city, ride.city),
        eq(vehicleLocationHistories.rideId, ride.id),
        after ? gt(vehicleLocationHistories.timestamp, after) : undefined,
      ),
    )
    .orderBy(vehicleLocationHistories.timestamp)
    .limit(limit + 1);
  const items = rows.slice(0, limit).map((row) => ({ timestamp: row.timestamp, lat: row.lat ?? 0, long: row.long ?? 0 }));
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? Buffer.from(last.timestamp.toISOString()).toString('base64url') : null };
}

function decodeTimeCursor(cursor: string): Date {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const time = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(text) ? new Date(text) : undefined;
  if (!time || Number.isNaN(time.getTime())) throw ValidationError.field('cursor', INVALID_PAGE_LINK);
  return time;
}

/** What ending a ride reads, in one statement: the ride, its vehicle and owner, the rider's promo codes. */
function endRideRead(tx: Transaction) {
  return preparedOnce(tx, 'movr_end_ride_read', (executor, name) =>
    executor
      .select({
        ride: rides,
        vehicleType: vehicles.type,
        vehicleOwnerId: vehicles.ownerId,
        vehicleOwnerName: owners.name,
        promoCodes: heldPromoCodesJson(sql`${rides.city}`, sql`${rides.riderId}`),
      })
      .from(rides)
      .leftJoin(vehicles, and(eq(vehicles.city, rides.vehicleCity), eq(vehicles.id, rides.vehicleId)))
      .leftJoin(owners, and(eq(owners.city, vehicles.city), eq(owners.id, vehicles.ownerId)))
      .where(
        and(
          eq(rides.city, sql.placeholder('city')),
          eq(rides.id, sql.placeholder('id')),
          eq(rides.riderId, sql.placeholder('riderId')),
          eq(rides.city, sql.placeholder('riderCity')),
        ),
      )
      .limit(1)
      .prepare(name),
  );
}

/** The owners of vehicles, a second view of users in one query. */
const owners = alias(users, 'owners');

/** The ride ended and paid, its receipt, the promo code used, the vehicle back: one statement. */
const END_RIDE: Statement = {
  name: 'movr_end_ride',
  text: `WITH last_point AS (
  SELECT lat, long FROM vehicle_location_histories
  WHERE city = $1 AND ride_id = $2 AND lat IS NOT NULL AND long IS NOT NULL
  ORDER BY "timestamp" DESC LIMIT 1
), ended AS (
  UPDATE rides SET end_address = $3, end_time = $4, revenue = $5
  WHERE city = $1 AND id = $2 AND end_time IS NULL
  RETURNING id
), receipt AS (
  INSERT INTO ride_receipts (city, ride_id, vehicle_type, minutes, unlock_cents, per_minute_cents, fare_cents,
                             promo_code, discount_percent, discount_cents, total_cents, created_at)
  SELECT $1, id, $6, $7, $8, $9, $10, $11, $12, $13, $14, $4 FROM ended
  RETURNING ride_id
), promo AS (
  UPDATE user_promo_codes SET usage_count = coalesce(usage_count, 0) + 1
  WHERE city = $1 AND user_id = $15 AND code = $11 AND EXISTS (SELECT 1 FROM ended)
  RETURNING code
), vehicle AS (
  UPDATE vehicles SET status = $18, current_location = $3,
    lat = coalesce((SELECT lat FROM last_point), lat), long = coalesce((SELECT long FROM last_point), long)
  WHERE city = $16 AND id = $17 AND EXISTS (SELECT 1 FROM ended)
  RETURNING id
)
SELECT (SELECT count(*) FROM ended) AS ended, (SELECT count(*) FROM receipt) AS receipts,
       (SELECT count(*) FROM promo) AS promos, (SELECT count(*) FROM vehicle) AS vehicles`,
};

/**
 * Ends the rider's open ride at an address: computes the fare from the price list, applies the
 * rider's best valid promo code, stores the revenue and a receipt, and puts the vehicle back as
 * available where the ride ended (retired if its owner deleted their account during the ride): at
 * the end address, and at the ride's last recorded point (or where it was, without points).
 * One transaction of one read and one write.
 */
export async function endRide(
  db: Database,
  rider: UserRef,
  ref: RideRef,
  endAddress: string,
  options: { priceList: PriceList; now?: Date; inTransaction?: InTransaction; stats?: RideStats },
): Promise<Ride> {
  const { endAddress: address } = parseInput(z.object({ endAddress: EndAddress }), { endAddress });
  const ride = await runTransaction(db, 'end_ride', async (tx) => {
    const now = options.now ?? new Date();
    const [row] = isUuid(ref.id)
      ? await endRideRead(tx).execute({ city: ref.city, id: ref.id, riderId: rider.id, riderCity: rider.city })
      : [];
    if (!row) throw domainError('ride_not_found');
    const ride = row.ride;
    if (ride.endTime) throw domainError('ride_already_ended');
    const start = ride.startTime ?? now;
    const end = now < start ? start : now;
    const undiscounted = computeFare(options.priceList, row.vehicleType, start, end);
    const promo = bestPromoCode(heldPromoCodes(row.promoCodes), end, { city: ride.city, fareCents: undiscounted.fareCents });
    const fare = computeFare(options.priceList, row.vehicleType, start, end, promo?.discount ?? null);
    // A vehicle whose owner deleted their account during the ride is retired, not offered again.
    const ownerGone = row.vehicleOwnerId !== null && row.vehicleOwnerName === null;
    const [written] = await runStatement(tx, END_RIDE, [
      ride.city,
      ride.id,
      address,
      end.toISOString(),
      centsToDecimal(fare.totalCents),
      row.vehicleType,
      fare.minutes,
      fare.unlockCents,
      fare.perMinuteCents,
      fare.fareCents,
      promo?.code ?? null,
      fare.discountPercent,
      fare.discountCents,
      fare.totalCents,
      rider.id,
      ride.vehicleCity,
      ride.vehicleId,
      ownerGone ? RETIRED : 'available',
    ]);
    if (Number(written?.ended) !== 1) throw domainError('ride_already_ended');
    const ended: Ride = {
      ...toRide({ ride, vehicleType: row.vehicleType, receipt: null }),
      endAddress: address,
      endTime: end,
      revenueCents: fare.totalCents,
      receipt: { ...fare, promoCode: promo?.code ?? null, vehicleType: row.vehicleType },
    };
    await options.inTransaction?.(tx, ended);
    return ended;
  });
  options.stats?.recordEnd(ride.city, ride.revenueCents ?? 0);
  return ride;
}

interface RideCursor {
  startTime: Date;
  id: string;
}

function encodeCursor(ride: Ride): string | null {
  if (!ride.startTime) return null;
  return Buffer.from(JSON.stringify([ride.startTime.toISOString(), ride.id])).toString('base64url');
}

function decodeCursor(cursor: string): RideCursor {
  try {
    const [time, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    const startTime = new Date(String(time));
    if (typeof id === 'string' && isUuid(id) && !Number.isNaN(startTime.getTime())) return { startTime, id };
  } catch {
    // fall through
  }
  throw ValidationError.field('cursor', INVALID_PAGE_LINK);
}

/** The rider's rides, newest first, a page at a time (keyset on start time and id). */
export async function listRides(
  db: Queryable,
  rider: UserRef,
  options: { limit?: number | undefined; cursor?: string | undefined } = {},
): Promise<Page<Ride>> {
  const limit = pageSize(options.limit);
  const after = options.cursor ? decodeCursor(options.cursor) : undefined;
  const rows = await selectRides(db)
    .where(
      and(
        eq(rides.city, rider.city),
        eq(rides.riderId, rider.id),
        after
          ? or(lt(rides.startTime, after.startTime), and(eq(rides.startTime, after.startTime), lt(rides.id, after.id)))
          : undefined,
      ),
    )
    .orderBy(desc(rides.startTime), desc(rides.id))
    .limit(limit + 1);
  const items = rows.slice(0, limit).map(toRide);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
}

/** Total rides and open rides of a rider (for the profile). */
export async function rideCounts(db: Queryable, rider: UserRef): Promise<{ total: number; open: number }> {
  const [row] = await executorOf(db)
    .select({
      total: sql<number>`count(*)::int`,
      open: sql<number>`count(*) FILTER (WHERE ${rides.endTime} IS NULL)::int`,
    })
    .from(rides)
    .where(and(eq(rides.city, rider.city), eq(rides.riderId, rider.id)));
  return { total: Number(row?.total ?? 0), open: Number(row?.open ?? 0) };
}
