// Rides: starting one, recording where it goes, ending it with a fare, and the rider's history.
//
// The database guarantees what matters most even against concurrent requests: a vehicle and a
// rider each have at most one open ride (partial unique indexes), and every transaction is
// SERIALIZABLE and retried on conflict, so two riders racing for one vehicle get exactly one ride.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { and, desc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { type Database, type Queryable, type Transaction, executorOf } from '../db/connect.ts';
import { UNIQUE_VIOLATION, sqlState, violatedConstraint } from '../db/errors.ts';
import { rideReceipts, rides, vehicleLocationHistories, vehicles } from '../db/schema.ts';
import { runTransaction } from '../db/transaction.ts';
import { ValidationError, domainError } from './errors.ts';
import { type Fare, type PriceList, centsToDecimal, computeFare, decimalToCents } from './pricing.ts';
import { useBestPromoCode } from './promo-codes.ts';
import { EndAddress, INVALID_PAGE_LINK, type Page, Point, RETIRED, isUuid, pageSize, parseInput } from './rules.ts';
import { type UserRef, requireActiveUser } from './users.ts';
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

/** Starts a ride on an available vehicle in the rider's home city. */
export async function startRide(
  db: Database,
  rider: UserRef,
  vehicleRef: { city: string; id: string },
  options: { now?: Date; inTransaction?: InTransaction } = {},
): Promise<Ride> {
  const id = randomUUID();
  let started: Ride | undefined;
  try {
    await runTransaction(db, 'start_ride', async (tx) => {
      const now = options.now ?? new Date();
      await requireActiveUser(tx, rider);
      const vehicle = await getVehicle(tx, vehicleRef.city, vehicleRef.id);
      if (vehicle.city !== rider.city) throw domainError('outside_home_city', { homeCity: rider.city });
      if (vehicle.status !== 'available') throw domainError('vehicle_unavailable');
      const [open] = await tx
        .select({ id: rides.id })
        .from(rides)
        .where(and(eq(rides.city, rider.city), eq(rides.riderId, rider.id), isNull(rides.endTime)))
        .limit(1);
      if (open) throw domainError('ride_already_open');
      await tx.insert(rides).values({
        id,
        city: vehicle.city,
        vehicleCity: vehicle.city,
        riderId: rider.id,
        vehicleId: vehicle.id,
        startAddress: vehicle.currentLocation,
        startTime: now,
      });
      await tx
        .update(vehicles)
        .set({ status: 'in_use' })
        .where(and(eq(vehicles.city, vehicle.city), eq(vehicles.id, vehicle.id)));
      started = await getRide(tx, rider, { city: vehicle.city, id });
      await options.inTransaction?.(tx, started);
    });
  } catch (error) {
    // A race the checks above lost: the partial unique indexes had the last word.
    if (sqlState(error) === UNIQUE_VIOLATION) {
      const constraint = violatedConstraint(error);
      if (constraint === 'rides_one_open_ride_per_rider') throw domainError('ride_already_open');
      if (constraint === 'rides_one_open_ride_per_vehicle') throw domainError('vehicle_unavailable');
    }
    throw error;
  }
  if (!started) throw new Error('start_ride committed without a ride');
  return started;
}

/** Records where an open ride's vehicle is now. */
export async function recordLocation(
  db: Database,
  rider: UserRef,
  ref: RideRef,
  point: { lat: number; long: number },
  options: { now?: Date } = {},
): Promise<LocationPoint> {
  const { lat, long } = parseInput(Point, point, { message: INVALID_LOCATION, always: true });
  const timestamp = options.now ?? new Date();
  await runTransaction(db, 'record_location', async (tx) => {
    const ride = await getRide(tx, rider, ref);
    if (ride.endTime) throw domainError('ride_already_ended');
    // Two points in the same millisecond are one point.
    await tx
      .insert(vehicleLocationHistories)
      .values({ city: ride.city, rideId: ride.id, timestamp, lat, long })
      .onConflictDoNothing();
  });
  return { timestamp, lat, long };
}

export async function listLocations(db: Queryable, rider: UserRef, ref: RideRef): Promise<LocationPoint[]> {
  const ride = await getRide(db, rider, ref);
  const rows = await executorOf(db)
    .select({ timestamp: vehicleLocationHistories.timestamp, lat: vehicleLocationHistories.lat, long: vehicleLocationHistories.long })
    .from(vehicleLocationHistories)
    .where(and(eq(vehicleLocationHistories.city, ride.city), eq(vehicleLocationHistories.rideId, ride.id)))
    .orderBy(vehicleLocationHistories.timestamp);
  return rows.map((row) => ({ timestamp: row.timestamp, lat: row.lat ?? 0, long: row.long ?? 0 }));
}

/**
 * Ends the rider's open ride at an address: computes the fare from the price list, applies the
 * rider's best valid promo code, stores the revenue and a receipt, and puts the vehicle back as
 * available where the ride ended. Everything in one transaction.
 */
export async function endRide(
  db: Database,
  rider: UserRef,
  ref: RideRef,
  endAddress: string,
  options: { priceList: PriceList; now?: Date; inTransaction?: InTransaction },
): Promise<Ride> {
  const { endAddress: address } = parseInput(z.object({ endAddress: EndAddress }), { endAddress });
  return runTransaction(db, 'end_ride', async (tx) => {
    const now = options.now ?? new Date();
    const ride = await getRide(tx, rider, ref);
    if (ride.endTime) throw domainError('ride_already_ended');
    const start = ride.startTime ?? now;
    const end = now < start ? start : now;
    const promo = await useBestPromoCode(tx, rider, end);
    const fare = computeFare(options.priceList, ride.vehicleType, start, end, promo?.percentOff ?? 0);
    await tx
      .update(rides)
      .set({ endAddress: address, endTime: end, revenue: centsToDecimal(fare.totalCents) })
      .where(and(eq(rides.city, ride.city), eq(rides.id, ride.id)));
    await tx.insert(rideReceipts).values({
      city: ride.city,
      rideId: ride.id,
      vehicleType: ride.vehicleType,
      ...fare,
      promoCode: promo?.code ?? null,
      createdAt: end,
    });
    if (ride.vehicleCity && ride.vehicleId) {
      // A vehicle whose owner deleted their account during the ride is retired, not offered again.
      const vehicle = await getVehicle(tx, ride.vehicleCity, ride.vehicleId);
      const ownerGone = vehicle.ownerId !== null && vehicle.ownerName === null;
      await tx
        .update(vehicles)
        .set({ status: ownerGone ? RETIRED : 'available', currentLocation: address })
        .where(and(eq(vehicles.city, ride.vehicleCity), eq(vehicles.id, ride.vehicleId)));
    }
    const ended = await getRide(tx, rider, ref);
    await options.inTransaction?.(tx, ended);
    return ended;
  });
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
