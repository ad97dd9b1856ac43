// The fleet, as operators see it: per city, vehicles by status, lost vehicles (report one lost,
// mark it found), utilisation (the share of time vehicles were in use over the last day and
// week) and vehicles idle for a long time. Every query reads one city's rows, so on CockroachDB
// it stays in the city's region (decision 0025).
import { and, asc, eq, gt, inArray, isNull, sql } from 'drizzle-orm';
import { type Database, type Queryable, executorOf } from '../db/connect.ts';
import { rides, vehicles } from '../db/schema.ts';
import { runTransaction } from '../db/transaction.ts';
import { ValidationError, domainError } from './errors.ts';
import { type Operator, recordAction } from './operators.ts';
import { INVALID_PAGE_LINK, type Page, ParkingSpot, RETIRED, VEHICLE_STATUSES, isUuid, pageSize, parseInput } from './rules.ts';
import { type Vehicle, getVehicle, selectVehicles, toVehicle } from './vehicles.ts';
import { z } from 'zod';

export const LOST = 'lost';
const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
export const WEEK_MS = 7 * DAY_MS;
/** A vehicle available this long without a ride is idle: two days by default. */
export const DEFAULT_IDLE_HOURS = 48;
export const MAX_IDLE_LISTED = 100;

/** A timestamp parameter (MovR stores UTC in TIMESTAMP WITHOUT TIME ZONE). */
export function utc(date: Date) {
  return sql`${date.toISOString()}::timestamp`;
}

export interface StatusCount {
  readonly status: string;
  readonly vehicles: number;
}

/** How many of the city's vehicles have each status (every status listed, 0 included). */
export async function vehiclesByStatus(db: Queryable, city: string): Promise<StatusCount[]> {
  const rows = await executorOf(db)
    .select({ status: vehicles.status, vehicles: sql<number>`count(*)::int` })
    .from(vehicles)
    .where(eq(vehicles.city, city))
    .groupBy(vehicles.status);
  const counts = new Map(rows.map((row) => [row.status ?? 'unknown', Number(row.vehicles)]));
  const known: string[] = [...VEHICLE_STATUSES];
  return [...known, ...[...counts.keys()].filter((status) => !known.includes(status))].map((status) => ({
    status,
    vehicles: counts.get(status) ?? 0,
  }));
}

export interface Utilisation {
  /** The window, ending now. */
  readonly windowMs: number;
  /** Share of the vehicles' time in use, 0 to 1. */
  readonly share: number;
  /** Hours ridden in the window. */
  readonly hoursInUse: number;
  /** Vehicles in service (neither lost nor retired). */
  readonly vehicles: number;
}

/**
 * The share of time the city's vehicles in service were in use over the window that ends at
 * `now`: ridden time (open rides up to now) over vehicles × window.
 */
export async function utilisation(db: Queryable, city: string, windowMs: number, now: Date = new Date()): Promise<Utilisation> {
  const from = new Date(now.getTime() - windowMs);
  const [ridden] = await executorOf(db)
    .select({
      seconds: sql<string>`coalesce(sum(extract(epoch from (least(coalesce(${rides.endTime}, ${utc(now)}), ${utc(now)}) - greatest(${rides.startTime}, ${utc(from)})))), 0)::float8`,
    })
    .from(rides)
    .where(
      and(
        eq(rides.city, city),
        sql`${rides.startTime} < ${utc(now)}`,
        sql`(${rides.endTime} IS NULL OR ${rides.endTime} > ${utc(from)})`,
      ),
    );
  const [fleet] = await executorOf(db)
    .select({ vehicles: sql<number>`count(*)::int` })
    .from(vehicles)
    .where(and(eq(vehicles.city, city), sql`(${vehicles.status} IS NULL OR ${vehicles.status} NOT IN (${LOST}, ${RETIRED}))`));
  const seconds = Math.max(0, Number(ridden?.seconds ?? 0));
  const count = Number(fleet?.vehicles ?? 0);
  const share = count === 0 ? 0 : Math.min(1, (seconds * 1000) / (count * windowMs));
  return { windowMs, share, hoursInUse: seconds / 3600, vehicles: count };
}

export interface IdleVehicle {
  readonly vehicle: Vehicle;
  /** When it was last ridden (the end of its last ride); null if never. */
  readonly lastRideEnd: Date | null;
  /** Since when it has been idle: its last ride's end, or its creation. */
  readonly idleSince: Date | null;
}

/** Available vehicles of the city without a ride for `idleHours` or more, longest idle first. */
export async function idleVehicles(
  db: Queryable,
  city: string,
  options: { idleHours?: number; now?: Date; limit?: number } = {},
): Promise<IdleVehicle[]> {
  const now = options.now ?? new Date();
  const threshold = new Date(now.getTime() - (options.idleHours ?? DEFAULT_IDLE_HOURS) * HOUR_MS);
  // Spelled out: Drizzle leaves a single table's columns unqualified, which a correlated subquery cannot have.
  const lastEnd = sql<string | null>`(SELECT extract(epoch from max(r.end_time))::float8 FROM rides r
    WHERE r.vehicle_city = vehicles.city AND r.vehicle_id = vehicles.id)`;
  const rows = await selectVehicles(db)
    .where(and(eq(vehicles.city, city), eq(vehicles.status, 'available')))
    .orderBy(asc(vehicles.id));
  if (rows.length === 0) return [];
  const ends = await executorOf(db)
    .select({ id: vehicles.id, lastEnd })
    .from(vehicles)
    .where(and(eq(vehicles.city, city), inArray(vehicles.id, rows.map((row) => row.id))));
  const endById = new Map(ends.map((row) => [row.id, row.lastEnd === null ? null : new Date(Number(row.lastEnd) * 1000)]));
  return rows
    .map((row) => {
      const vehicle = toVehicle(row);
      const lastRideEnd = endById.get(vehicle.id) ?? null;
      return { vehicle, lastRideEnd, idleSince: lastRideEnd ?? vehicle.creationTime };
    })
    .filter((idle) => idle.idleSince === null || idle.idleSince < threshold)
    .sort((a, b) => (a.idleSince?.getTime() ?? 0) - (b.idleSince?.getTime() ?? 0))
    .slice(0, options.limit ?? MAX_IDLE_LISTED);
}

/** The city's vehicles of any status (lost and retired included), in id order, a page at a time. */
export async function listFleetVehicles(
  db: Queryable,
  city: string,
  options: { status?: string | undefined; limit?: number | undefined; cursor?: string | undefined } = {},
): Promise<Page<Vehicle>> {
  const limit = pageSize(options.limit);
  if (options.cursor !== undefined && !isUuid(options.cursor)) throw ValidationError.field('cursor', INVALID_PAGE_LINK);
  const rows = await selectVehicles(db)
    .where(
      and(
        eq(vehicles.city, city),
        options.status === undefined ? undefined : options.status === 'unknown' ? isNull(vehicles.status) : eq(vehicles.status, options.status),
        options.cursor === undefined ? undefined : gt(vehicles.id, options.cursor),
      ),
    )
    .orderBy(asc(vehicles.id))
    .limit(limit + 1);
  const items = rows.slice(0, limit).map(toVehicle);
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}

/** Reports an available vehicle lost: it is no longer offered to riders. */
export async function reportLost(db: Database, operator: Operator, city: string, id: string, options: { now?: Date } = {}): Promise<Vehicle> {
  const now = options.now ?? new Date();
  await runTransaction(db, 'report_vehicle_lost', async (tx) => {
    const vehicle = await getVehicle(tx, city, id);
    if (vehicle.status === RETIRED) throw domainError('vehicle_retired');
    if (vehicle.status === LOST) throw domainError('vehicle_lost');
    const [open] = await tx
      .select({ id: rides.id })
      .from(rides)
      .where(and(eq(rides.vehicleCity, city), eq(rides.vehicleId, vehicle.id), isNull(rides.endTime)))
      .limit(1);
    if (open || vehicle.status === 'in_use') throw domainError('vehicle_in_use');
    await tx.update(vehicles).set({ status: LOST }).where(and(eq(vehicles.city, city), eq(vehicles.id, vehicle.id)));
    await recordAction(tx, operator, 'vehicle_reported_lost', `${city}/${vehicle.id}`, { previousStatus: vehicle.status }, now);
  });
  return getVehicle(db, city, id);
}

/** Marks a lost vehicle found: available again, where it was found (or where it was). */
export async function markFound(
  db: Database,
  operator: Operator,
  city: string,
  id: string,
  options: { location?: string | undefined; now?: Date } = {},
): Promise<Vehicle> {
  const now = options.now ?? new Date();
  const location =
    options.location === undefined || options.location.trim() === ''
      ? undefined
      : parseInput(z.object({ location: ParkingSpot }), { location: options.location }).location;
  await runTransaction(db, 'mark_vehicle_found', async (tx) => {
    const vehicle = await getVehicle(tx, city, id);
    if (vehicle.status !== LOST) throw domainError('vehicle_not_lost');
    await tx
      .update(vehicles)
      .set({ status: 'available', ...(location ? { currentLocation: location } : {}) })
      .where(and(eq(vehicles.city, city), eq(vehicles.id, vehicle.id)));
    await recordAction(tx, operator, 'vehicle_found', `${city}/${vehicle.id}`, location ? { location } : null, now);
  });
  return getVehicle(db, city, id);
}

export interface FleetOverview {
  readonly city: string;
  readonly byStatus: StatusCount[];
  readonly day: Utilisation;
  readonly week: Utilisation;
  readonly idle: IdleVehicle[];
  readonly idleHours: number;
  readonly lost: Vehicle[];
}

/** Everything the fleet page of a city shows. */
export async function fleetOverview(
  db: Queryable,
  city: string,
  options: { idleHours?: number; now?: Date } = {},
): Promise<FleetOverview> {
  const now = options.now ?? new Date();
  const idleHours = options.idleHours ?? DEFAULT_IDLE_HOURS;
  const byStatus = await vehiclesByStatus(db, city);
  const day = await utilisation(db, city, DAY_MS, now);
  const week = await utilisation(db, city, WEEK_MS, now);
  const idle = await idleVehicles(db, city, { idleHours, now });
  const lost = (await listFleetVehicles(db, city, { status: LOST, limit: 100 })).items;
  return { city, byStatus, day, week, idle, idleHours, lost };
}
