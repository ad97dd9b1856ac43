// The numbers operators run the platform by: for a region or a city and a period, rides and
// revenue per hour or per day, the average fare, the discounts given, the busiest vehicles, and
// the rides themselves for a CSV export. A ride counts when it ends (when it is paid).
//
// Every query names the cities it reads (`city IN (…)`: one city, or a region's cities), so on a
// geo-partitioned CockroachDB it reads only that region's partitions (decision 0025); the index
// rides (city, end_time) finds a period's rides without scanning the city.
import { and, desc, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import { type Queryable, executorOf } from '../db/connect.ts';
import { rideReceipts, rides, vehicles } from '../db/schema.ts';
import type { RegionMap } from '../region-map.ts';
import { ValidationError, domainError } from './errors.ts';
import { utc } from './fleet.ts';
import { decimalToCents } from './pricing.ts';

export type Bucket = 'hour' | 'day';
export const BUCKETS: readonly Bucket[] = ['hour', 'day'];

/** The longest period a dashboard or export covers. */
export const MAX_PERIOD_DAYS = 92;
/** Hourly series cover at most this many days (24 × 14 points). */
export const MAX_HOURLY_DAYS = 14;
export const MAX_EXPORT_ROWS = 100_000;
export const BUSIEST_VEHICLES = 10;
const DAY_MS = 86_400_000;

/** What a dashboard is about: one city or one region (its cities). */
export type Scope = { readonly kind: 'city'; readonly city: string } | { readonly kind: 'region'; readonly region: string };

export interface Period {
  readonly from: Date;
  readonly to: Date;
}

/** The cities of a scope; NotFoundError for an unknown city or region. */
export function citiesOf(regions: RegionMap, scope: Scope): string[] {
  if (scope.kind === 'city') {
    if (!regions.findCity(scope.city)) throw domainError('city_not_found');
    return [scope.city];
  }
  const region = regions.regions.find((r) => r.region === scope.region);
  if (!region) throw domainError('region_not_found');
  return region.cities.map((city) => city.name);
}

/** A period from optional ends: the last 7 days up to now by default; checked against the limits. */
export function periodOf(input: { from?: Date | undefined; to?: Date | undefined }, now: Date = new Date()): Period {
  const to = input.to ?? now;
  const from = input.from ?? new Date(to.getTime() - 7 * DAY_MS);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || from >= to) {
    throw ValidationError.field('from', 'The period must start before it ends.');
  }
  if (to.getTime() - from.getTime() > MAX_PERIOD_DAYS * DAY_MS) {
    throw ValidationError.field('from', `A period is at most ${MAX_PERIOD_DAYS} days.`);
  }
  return { from, to };
}

/** The bucket a period is shown in when none is asked for: hours for up to two days, else days. */
export function defaultBucket(period: Period): Bucket {
  return period.to.getTime() - period.from.getTime() <= 2 * DAY_MS ? 'hour' : 'day';
}

export interface Totals {
  readonly rides: number;
  readonly revenueCents: number;
  /** Revenue over rides; 0 without rides. */
  readonly averageFareCents: number;
  /** Taken off fares by promo codes. */
  readonly discountCents: number;
  /** Rides a promo code discounted. */
  readonly discountedRides: number;
}

export interface SeriesPoint extends Pick<Totals, 'rides' | 'revenueCents'> {
  /** The start of the hour or day (UTC). */
  readonly at: Date;
}

export interface BusyVehicle {
  readonly city: string;
  readonly id: string;
  readonly type: string | null;
  readonly rides: number;
  readonly revenueCents: number;
}

export interface Dashboard {
  readonly scope: Scope;
  readonly cities: string[];
  readonly period: Period;
  readonly bucket: Bucket;
  readonly totals: Totals;
  readonly series: SeriesPoint[];
  /** Per city of the scope (one row for a city's dashboard). */
  readonly byCity: (Totals & { city: string })[];
  readonly busiestVehicles: BusyVehicle[];
}

/** Rides of the cities that ended in the period: the condition every query shares. */
function endedIn(cities: string[], period: Period) {
  return and(
    inArray(rides.city, cities),
    isNotNull(rides.endTime),
    sql`${rides.endTime} >= ${utc(period.from)}`,
    sql`${rides.endTime} < ${utc(period.to)}`,
  );
}

const cents = (value: unknown) => (value === null || value === undefined ? 0 : decimalToCents(String(value)));

function totalsOf(row: { rides: unknown; revenue: unknown; discount: unknown; discounted: unknown } | undefined): Totals {
  const count = Number(row?.rides ?? 0);
  const revenueCents = cents(row?.revenue);
  return {
    rides: count,
    revenueCents,
    averageFareCents: count === 0 ? 0 : Math.round(revenueCents / count),
    discountCents: Number(row?.discount ?? 0),
    discountedRides: Number(row?.discounted ?? 0),
  };
}

const totalColumns = {
  rides: sql<string>`count(*)`,
  revenue: sql<string | null>`sum(${rides.revenue})::text`,
  discount: sql<string>`coalesce(sum(${rideReceipts.discountCents}), 0)`,
  discounted: sql<string>`count(*) FILTER (WHERE ${rideReceipts.discountCents} > 0)`,
};

/** The dashboard of a scope over a period. */
export async function dashboard(
  db: Queryable,
  regions: RegionMap,
  scope: Scope,
  options: { from?: Date | undefined; to?: Date | undefined; bucket?: Bucket | undefined; now?: Date } = {},
): Promise<Dashboard> {
  const cities = citiesOf(regions, scope);
  const period = periodOf(options, options.now);
  const bucket = options.bucket ?? defaultBucket(period);
  if (bucket === 'hour' && period.to.getTime() - period.from.getTime() > MAX_HOURLY_DAYS * DAY_MS) {
    throw ValidationError.field('bucket', `Hourly figures cover at most ${MAX_HOURLY_DAYS} days; choose days.`);
  }
  const orm = executorOf(db);
  const where = endedIn(cities, period);
  const receiptJoin = and(eq(rideReceipts.city, rides.city), eq(rideReceipts.rideId, rides.id));

  const byCityRows = await orm
    .select({ city: rides.city, ...totalColumns })
    .from(rides)
    .leftJoin(rideReceipts, receiptJoin)
    .where(where)
    .groupBy(rides.city);
  const byCityMap = new Map(byCityRows.map((row) => [row.city, totalsOf(row)]));
  const byCity = cities.map((city) => ({ city, ...(byCityMap.get(city) ?? totalsOf(undefined)) }));
  const sum = (pick: (t: Totals) => number) => byCity.reduce((total, row) => total + pick(row), 0);
  const rideCount = sum((t) => t.rides);
  const revenueCents = sum((t) => t.revenueCents);
  const totals: Totals = {
    rides: rideCount,
    revenueCents,
    averageFareCents: rideCount === 0 ? 0 : Math.round(revenueCents / rideCount),
    discountCents: sum((t) => t.discountCents),
    discountedRides: sum((t) => t.discountedRides),
  };

  // The bucket is one of BUCKETS, never user text: inlined so GROUP BY and SELECT are one expression.
  const truncated = sql`date_trunc(${sql.raw(`'${bucket}'`)}, ${rides.endTime})`;
  const seriesRows = await orm
    .select({
      at: sql<string>`extract(epoch from ${truncated})::int8`,
      rides: sql<string>`count(*)`,
      revenue: sql<string | null>`sum(${rides.revenue})::text`,
    })
    .from(rides)
    .where(where)
    .groupBy(truncated)
    .orderBy(truncated);
  const series = fillSeries(
    seriesRows.map((row) => ({ at: new Date(Number(row.at) * 1000), rides: Number(row.rides), revenueCents: cents(row.revenue) })),
    period,
    bucket,
  );

  const busiestRows = await orm
    .select({
      city: rides.vehicleCity,
      id: rides.vehicleId,
      type: vehicles.type,
      rides: sql<string>`count(*)`,
      revenue: sql<string | null>`sum(${rides.revenue})::text`,
    })
    .from(rides)
    .leftJoin(vehicles, and(eq(vehicles.city, rides.vehicleCity), eq(vehicles.id, rides.vehicleId)))
    .where(where)
    .groupBy(rides.vehicleCity, rides.vehicleId, vehicles.type)
    .orderBy(desc(sql`count(*)`), desc(sql`sum(${rides.revenue})`), rides.vehicleId)
    .limit(BUSIEST_VEHICLES);
  const busiestVehicles = busiestRows.flatMap((row) =>
    row.city && row.id ? [{ city: row.city, id: row.id, type: row.type, rides: Number(row.rides), revenueCents: cents(row.revenue) }] : [],
  );

  return { scope, cities, period, bucket, totals, series, byCity, busiestVehicles };
}

/** Every hour or day of the period, those without rides as zeros. */
function fillSeries(points: SeriesPoint[], period: Period, bucket: Bucket): SeriesPoint[] {
  const step = bucket === 'hour' ? 3_600_000 : DAY_MS;
  const start = Math.floor(period.from.getTime() / step) * step;
  const byTime = new Map(points.map((point) => [point.at.getTime(), point]));
  const filled: SeriesPoint[] = [];
  for (let at = start; at < period.to.getTime(); at += step) {
    filled.push(byTime.get(at) ?? { at: new Date(at), rides: 0, revenueCents: 0 });
  }
  return filled;
}

export interface ExportedRide {
  readonly city: string;
  readonly id: string;
  readonly vehicleId: string | null;
  readonly vehicleType: string | null;
  readonly riderId: string | null;
  readonly startTime: Date | null;
  readonly endTime: Date | null;
  readonly minutes: number | null;
  readonly fareCents: number | null;
  readonly discountCents: number | null;
  readonly promoCode: string | null;
  readonly revenueCents: number | null;
}

/** The rides of a scope that ended in the period, oldest first, for the CSV export. */
export async function exportRides(
  db: Queryable,
  regions: RegionMap,
  scope: Scope,
  options: { from?: Date | undefined; to?: Date | undefined; now?: Date } = {},
): Promise<ExportedRide[]> {
  const cities = citiesOf(regions, scope);
  const period = periodOf(options, options.now);
  const rows = await executorOf(db)
    .select({ ride: rides, vehicleType: vehicles.type, receipt: rideReceipts })
    .from(rides)
    .leftJoin(vehicles, and(eq(vehicles.city, rides.vehicleCity), eq(vehicles.id, rides.vehicleId)))
    .leftJoin(rideReceipts, and(eq(rideReceipts.city, rides.city), eq(rideReceipts.rideId, rides.id)))
    .where(endedIn(cities, period))
    .orderBy(rides.endTime, rides.city, rides.id)
    .limit(MAX_EXPORT_ROWS);
  return rows.map(({ ride, vehicleType, receipt }) => ({
    city: ride.city,
    id: ride.id,
    vehicleId: ride.vehicleId,
    vehicleType: receipt?.vehicleType ?? vehicleType,
    riderId: ride.riderId,
    startTime: ride.startTime,
    endTime: ride.endTime,
    minutes: receipt?.minutes ?? null,
    fareCents: receipt?.fareCents ?? null,
    discountCents: receipt?.discountCents ?? null,
    promoCode: receipt?.promoCode ?? null,
    revenueCents: ride.revenue === null ? null : decimalToCents(ride.revenue),
  }));
}
