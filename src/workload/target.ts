// What `movr workload run` drives: the database directly through the domain functions
// (direct-target.ts), or a running MovR server through its JSON API (http-target.ts). Both
// offer the same operations; the runner (run.ts) decides which to run and keeps the score.
import {
  AmbiguousCommitError,
  DatabaseUnavailableError,
  TransactionRetriesExhaustedError,
  isConnectionError,
  sqlState,
} from '../db/errors.ts';
import { DomainError } from '../movr/errors.ts';
import type { ErrorCode } from '../web/errors.ts';
import { BIKE_BRANDS, VEHICLE_COLORS, VEHICLE_TYPES } from '../movr/rules.ts';
import { type RegionMap, cityCentre } from '../region-map.ts';
import { personName, streetAddress } from './generate.ts';
import type { WriteOperation } from './mix.ts';
import type { RowRandom } from './random.ts';
import type { RetryCounts } from './stats.ts';
import {
  PROMO_ADJECTIVES,
  PROMO_NOUNS,
  PROMO_PHRASES,
} from './words.ts';

export interface RideHandle {
  readonly city: string;
  readonly id: string;
}

/** A rider a worker owns for the whole run. */
export interface Rider {
  readonly city: string;
  readonly id: string;
  /** The bearer token (HTTP target only). */
  readonly token?: string;
  /** The rider's open ride, as far as the worker knows. */
  openRide: RideHandle | null;
  /** When the open ride started (performance.now()), to end the oldest first. */
  openedAt: number;
  /** An attempt to end the open ride had an unknown outcome (ambiguous commit): it may have ended. */
  rideInDoubt: boolean;
}

export interface WorkloadTarget {
  /** Where the load goes, for the output: a database URL (password removed) or a server URL. */
  readonly description: string;
  /** Writes this target cannot run, with the reason: they are left out of the mix. */
  readonly unsupported: ReadonlyMap<WriteOperation, string>;
  /** Creates one of a worker's riders (`label` is unique in the run). Not timed. */
  createRider(city: string, label: string, rng: RowRandom): Promise<Rider>;
  /** The read: a city's vehicles. */
  readVehicles(city: string): Promise<void>;
  createPromoCode(rng: RowRandom): Promise<void>;
  /** Adds a random active promo code to the rider's account; false when there is none to add. */
  applyPromoCode(rider: Rider, rng: RowRandom): Promise<boolean>;
  addUser(city: string, label: string, rng: RowRandom): Promise<void>;
  addVehicle(owner: Rider, rng: RowRandom): Promise<void>;
  /** Starts a ride on a random available vehicle of the rider's city. */
  startRide(rider: Rider, rng: RowRandom): Promise<RideHandle>;
  recordLocation(rider: Rider, ride: RideHandle, rng: RowRandom): Promise<void>;
  endRide(rider: Rider, ride: RideHandle, rng: RowRandom): Promise<void>;
  /** SQLSTATE 40001 retries since `markRetries` was last called; null when not observable. */
  retries(): RetryCounts | null;
  /** Starts counting retries from now (the measured part of the run). */
  markRetries(): void;
  close(): Promise<void>;
}

/**
 * The conflicts a workload meets by MovR's rules when it plays by them: two riders reach for the
 * same vehicle, a rider already has a ride, a random promo code was already added or has just
 * expired, a city has no vehicle left. They are counted apart from errors.
 */
export const EXPECTED_CONFLICTS: ReadonlySet<ErrorCode | WorkloadConflictCode> = new Set<ErrorCode | WorkloadConflictCode>([
  'vehicle_unavailable',
  'ride_already_open',
  'no_vehicle_available',
  'promo_code_already_added',
  'promo_code_expired',
  'promo_code_exists',
]);

/** What the workload finds by itself: no available vehicle to start a ride on. */
export type WorkloadConflictCode = 'no_vehicle_available';

function isExpected(code: string): boolean {
  return (EXPECTED_CONFLICTS as ReadonlySet<string>).has(code);
}

/** A conflict found by the workload itself, e.g. no available vehicle to start a ride on. */
export class WorkloadConflict extends Error {
  constructor(readonly code: WorkloadConflictCode, message: string) {
    super(message);
    this.name = 'WorkloadConflict';
  }
}

/** An HTTP response with an error status, with the API's error code. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Whether a failed write may have committed all the same (its answer was lost). */
export function isOutcomeUnknown(error: unknown): boolean {
  return error instanceof AmbiguousCommitError || (error instanceof HttpError && error.code === 'outcome_unknown');
}

export type Classified = { readonly conflict: string } | { readonly error: string };

/** Sorts a failed operation into an expected conflict (by code) or an error (by kind). */
export function classifyFailure(error: unknown): Classified {
  if (error instanceof WorkloadConflict) return { conflict: error.code };
  if (error instanceof DomainError) {
    return error.kind === 'conflict' && isExpected(error.code) ? { conflict: error.code } : { error: error.code };
  }
  if (error instanceof HttpError) {
    if (error.status === 409 && isExpected(error.code)) return { conflict: error.code };
    if (error.status === 429) return { error: 'rate_limited' };
    return { error: `http_${error.status}_${error.code}` };
  }
  if (error instanceof TransactionRetriesExhaustedError) return { error: 'retries_exhausted' };
  if (error instanceof AmbiguousCommitError) return { error: 'ambiguous_commit' };
  if (error instanceof DatabaseUnavailableError) return { error: 'database_unavailable' };
  const state = sqlState(error);
  if (state) return { error: `sqlstate_${state}` };
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return { error: `connection_${code.toLowerCase()}` };
  // A database connection that ended without a socket error code (e.g. "Connection terminated").
  if (isConnectionError(error)) return { error: 'database_unavailable' };
  return { error: `unexpected_${error instanceof Error ? error.name : typeof error}` };
}

// ---------------------------------------------------------------------------------------------
// Random values both targets use.

// Names and addresses come from the data generator, so loaded and generated rows look alike.
export { personName, streetAddress };

/** A point within about 5 km of the city's centre. */
export function pointIn(regions: RegionMap, city: string, rng: RowRandom): { lat: number; long: number } {
  // Cities added by configuration may have no known centre: cityCentre gives a stand-in.
  const known = regions.findCity(city) ?? regions.cities[0];
  if (!known) throw new RangeError('the region map has no cities');
  const centre = cityCentre(known);
  return {
    lat: Math.round((centre.lat + (rng.float() - 0.5) * 0.09) * 1e6) / 1e6,
    long: Math.round((centre.long + (rng.float() - 0.5) * 0.09) * 1e6) / 1e6,
  };
}

/** A new promo code: `<adjective>_<noun>_<label>`, 5% to 30% off, valid for a week to a year. */
export function promoCodeValues(rng: RowRandom, label: string) {
  const percentOff = 5 * rng.between(1, 6);
  return {
    code: `${rng.pick(PROMO_ADJECTIVES)}_${rng.pick(PROMO_NOUNS)}_${label}`,
    description: `${rng.pick(PROMO_PHRASES)}: ${percentOff}% off your ride`,
    percentOff,
    validDays: rng.between(7, 365),
  };
}

/** Where a promo-code lookup starts: three random letters (codes start with a lowercase word). */
export function randomCodeCursor(rng: RowRandom): string {
  return String.fromCharCode(97 + rng.int(26), 97 + rng.int(26), 97 + rng.int(26));
}

/** A vehicle an owner adds: any type and colour MovR knows. */
export function vehicleValues(rng: RowRandom) {
  const type = rng.pick(VEHICLE_TYPES);
  return {
    type,
    color: rng.pick(VEHICLE_COLORS),
    brand: type === 'bike' ? rng.pick(BIKE_BRANDS) : null,
    location: streetAddress(rng),
  };
}
