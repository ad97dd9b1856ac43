// The operations of `movr workload run`, their default mix, and the parsing of the flags that
// change it (--read-percent, --weights, --cities, --duration).
//
// The mix is the CockroachDB movr workload's: 95% reads of a random city's vehicles; the other
// 5% are writes, chosen by weight (create promo code 0.03, apply promo code 0.10, add user 0.30,
// add vehicle 0.10, start ride 0.40, end ride 0.07). Every write is preceded by a location update
// of up to 10 of the worker's open rides: record_location is an operation of its own in the
// statistics but is never picked by the mix.
import type { RegionMap } from '../region-map.ts';

export const READ_OPERATION = 'read_vehicles';
export const LOCATION_OPERATION = 'record_location';
export const WRITE_OPERATIONS = [
  'create_promo_code',
  'apply_promo_code',
  'add_user',
  'add_vehicle',
  'start_ride',
  'end_ride',
] as const;

export type WriteOperation = (typeof WRITE_OPERATIONS)[number];
export type PickedOperation = typeof READ_OPERATION | WriteOperation;
export type Operation = PickedOperation | typeof LOCATION_OPERATION;

/** Every operation, in the order the output lists them. */
export const OPERATIONS: readonly Operation[] = Object.freeze([READ_OPERATION, LOCATION_OPERATION, ...WRITE_OPERATIONS]);

export type WriteWeights = Readonly<Record<WriteOperation, number>>;

export const DEFAULT_READ_PERCENT = 95;
export const DEFAULT_WRITE_WEIGHTS: WriteWeights = Object.freeze({
  create_promo_code: 0.03,
  apply_promo_code: 0.1,
  add_user: 0.3,
  add_vehicle: 0.1,
  start_ride: 0.4,
  end_ride: 0.07,
});

/** Open rides whose location is updated before each write (the CockroachDB workload's 10). */
export const LOCATION_UPDATES_PER_WRITE = 10;

export interface Mix {
  /** Percent of picks that are reads, 0 to 100. */
  readonly readPercent: number;
  /** Relative weights of the writes; only their ratios matter. */
  readonly weights: WriteWeights;
}

export const DEFAULT_MIX: Mix = Object.freeze({ readPercent: DEFAULT_READ_PERCENT, weights: DEFAULT_WRITE_WEIGHTS });

/** A flag value that cannot be used: the CLI prints it with usage help. */
export class MixError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MixError';
  }
}

/**
 * Checks a mix: a read percent in [0, 100], finite non-negative weights, and some write weight
 * when not every pick is a read.
 */
export function validateMix(mix: Mix): Mix {
  if (!Number.isFinite(mix.readPercent) || mix.readPercent < 0 || mix.readPercent > 100) {
    throw new MixError(`--read-percent must be between 0 and 100, got ${mix.readPercent}`);
  }
  for (const op of WRITE_OPERATIONS) {
    const weight = mix.weights[op];
    if (!Number.isFinite(weight) || weight < 0) throw new MixError(`the weight of ${op} must be a number ≥ 0, got ${weight}`);
  }
  if (mix.readPercent < 100 && totalWeight(mix.weights) === 0) {
    throw new MixError('every write weight is 0: give some write a weight, or use --read-percent 100');
  }
  return mix;
}

function totalWeight(weights: WriteWeights): number {
  let total = 0;
  for (const op of WRITE_OPERATIONS) total += weights[op];
  return total;
}

/**
 * `start_ride=0.5,end_ride=0.2`: the weights named are replaced, the others keep their defaults.
 * Names are the operation names (dashes allowed for underscores).
 */
export function parseWeights(text: string, defaults: WriteWeights = DEFAULT_WRITE_WEIGHTS): WriteWeights {
  const weights: Record<WriteOperation, number> = { ...defaults };
  for (const part of text.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const match = /^([a-z_-]+)\s*=\s*([0-9]*\.?[0-9]+(?:e[-+]?\d+)?)$/i.exec(item);
    const name = match?.[1]?.toLowerCase().replaceAll('-', '_');
    if (!match || !name) throw new MixError(`--weights: "${item}" is not operation=weight (e.g. start_ride=0.5)`);
    if (!(WRITE_OPERATIONS as readonly string[]).includes(name)) {
      throw new MixError(`--weights: unknown operation "${match[1]}"; the writes are ${WRITE_OPERATIONS.join(', ')}`);
    }
    weights[name as WriteOperation] = Number(match[2]);
  }
  return Object.freeze(weights);
}

/**
 * `--cities`: comma-separated city and region names ("paris,us-west1"), resolved to city names in
 * MovR's order, without repeats. Empty or absent means every city.
 */
export function parseCities(text: string | undefined, regions: RegionMap): string[] {
  const cities = regions.cities;
  if (text === undefined || text.trim() === '') return cities.map((c) => c.name);
  const chosen = new Set<string>();
  for (const part of text.split(',')) {
    const name = part.trim().toLowerCase();
    if (name === '') continue;
    const inRegion = cities.filter((c) => c.region === name);
    const city = regions.findCity(name);
    if (city) chosen.add(city.name);
    else if (inRegion.length > 0) for (const c of inRegion) chosen.add(c.name);
    else {
      throw new MixError(
        `--cities: "${part.trim()}" is neither a city (${cities.map((c) => c.name).join(', ')}) ` +
          `nor a region (${regions.regionNames.join(', ')})`,
      );
    }
  }
  if (chosen.size === 0) throw new MixError('--cities names no city');
  return cities.filter((c) => chosen.has(c.name)).map((c) => c.name);
}

/** `60s`, `5m`, `1h`, `1500ms`, `2.5s` or a bare number of seconds, in milliseconds. */
export function parseDuration(text: string, flag = '--duration'): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(text);
  if (!match) throw new MixError(`${flag} must be a duration such as 30s, 5m or 1h, got "${text}"`);
  const unit = (match[2] ?? 's').toLowerCase();
  const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000;
  const ms = Number(match[1]) * factor;
  if (!Number.isFinite(ms) || ms > 365 * 24 * 3_600_000) throw new MixError(`${flag} is too long: "${text}"`);
  return Math.round(ms);
}

/** A uniform float in [0, 1). */
export type RandomSource = () => number;

/**
 * Picks operations with the mix's proportions from a random source: a read with probability
 * readPercent / 100, else a write by weight. Deterministic for a deterministic source; no
 * allocation per pick.
 */
export class OperationPicker {
  private readonly readFraction: number;
  /** Cumulative write weights, normalised to end at 1. */
  private readonly thresholds: Float64Array;
  private readonly writes: WriteOperation[];

  constructor(mix: Mix, private readonly random: RandomSource) {
    validateMix(mix);
    this.readFraction = mix.readPercent / 100;
    this.writes = WRITE_OPERATIONS.filter((op) => mix.weights[op] > 0);
    const total = totalWeight(mix.weights);
    this.thresholds = new Float64Array(this.writes.length);
    let sum = 0;
    this.writes.forEach((op, i) => {
      sum += mix.weights[op];
      this.thresholds[i] = sum / total;
    });
    if (this.writes.length > 0) this.thresholds[this.writes.length - 1] = 1;
  }

  next(): PickedOperation {
    if (this.writes.length === 0 || this.random() < this.readFraction) return READ_OPERATION;
    const r = this.random();
    const thresholds = this.thresholds;
    for (let i = 0; i < thresholds.length; i++) {
      if (r < (thresholds[i] as number)) return this.writes[i] as WriteOperation;
    }
    return this.writes[this.writes.length - 1] as WriteOperation;
  }

  /** The probability of each operation being picked. */
  probabilities(): Record<PickedOperation, number> {
    const result = { [READ_OPERATION]: this.writes.length === 0 ? 1 : this.readFraction } as Record<PickedOperation, number>;
    let previous = 0;
    for (const op of WRITE_OPERATIONS) result[op] = 0;
    this.writes.forEach((op, i) => {
      const threshold = this.thresholds[i] as number;
      result[op] = (1 - result[READ_OPERATION]) * (threshold - previous);
      previous = threshold;
    });
    return result;
  }
}
