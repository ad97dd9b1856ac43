// `movr workload run`: a load generator for MovR, after the CockroachDB movr workload, that
// plays by MovR's rules.
//
// `concurrency` workers run operations back to back until the duration is over or the run is
// stopped (an AbortSignal: Ctrl-C in the CLI). Each worker owns a few riders, created before the
// clock starts, and its own random stream (seed + worker number), and picks operations with the
// mix (mix.ts): a read of a random city's vehicles, or a write preceded by a location update of
// each of its riders' open rides (at most 10). Rides follow the rules: a ride starts on a random
// available vehicle of the rider's city, by a rider without an open ride when the worker has one,
// and the oldest open ride is the one ended, through the real end-ride transaction and its fare.
//
// Workers start spread over the ramp; an optional shared pacer caps the rate of operations of
// all workers together. Latencies go into HDR histograms (stats.ts): memory does not grow with
// the number of operations.
import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises';
import {
  LOCATION_OPERATION,
  LOCATION_UPDATES_PER_WRITE,
  type Mix,
  type Operation,
  OperationPicker,
  type PickedOperation,
  READ_OPERATION,
  WRITE_OPERATIONS,
  type WriteOperation,
} from './mix.ts';
import { RowRandom, hashString } from './random.ts';
import { type IntervalRow, type OperationObserver, type OperationStats, type Summary, WorkloadStats } from './stats.ts';
import { type Rider, type WorkloadTarget, classifyFailure, isOutcomeUnknown } from './target.ts';
import type { ErrorCode } from '../web/errors.ts';

export interface RunOptions {
  /** How long to run, in milliseconds; 0 runs until stopped. */
  durationMs: number;
  /** Workers running operations concurrently. */
  concurrency: number;
  /** Operations per second of all workers together; 0 for as fast as they go. */
  maxRate: number;
  /** Workers start spread evenly over this many milliseconds. */
  rampMs: number;
  seed: number;
  mix: Mix;
  /** The cities riders live in and reads look at. */
  cities: readonly string[];
  ridersPerWorker: number;
  /** Stops the run early (the summary covers what ran). */
  signal?: AbortSignal;
  /** Called once a second with a row per operation. */
  onInterval?: (rows: IntervalRow[]) => void;
  /** Called with what the runner is doing before the clock starts (creating riders). */
  onStatus?: (message: string) => void;
  /** Milliseconds between onInterval calls (default 1000). */
  intervalMs?: number;
  /** How long to wait for operations in flight once stopped (default 10 s). */
  stopGraceMs?: number;
  /** Told of every operation as it ends (the live metrics of --prometheus-port). */
  observer?: OperationObserver;
}

export const DEFAULT_RUN_OPTIONS = Object.freeze({
  durationMs: 60_000,
  concurrency: 8,
  maxRate: 0,
  rampMs: 0,
  seed: 1,
  ridersPerWorker: 4,
});

export interface RunResult {
  summary: Summary;
  /** Why the run ended. */
  stoppedBy: 'duration' | 'signal';
  /** The probability of each picked operation, as run (unsupported writes left out). */
  probabilities: Record<PickedOperation, number>;
  /** Writes the target could not run, with the reason. */
  leftOut: Record<string, string>;
  /** Operations still running when the grace period ran out (not counted). */
  abandoned: number;
}

const RANDOM_KEY = hashString('workload-run');
/** A worker lets the event loop run at least this often (see Worker.run). */
const YIELD_EVERY_MS = 10;
const SETUP_KEY = hashString('workload-run-setup');

/**
 * A shared pacer: hands out evenly spaced start times, `1000 / rate` ms apart, so all workers
 * together start at most `rate` operations per second. A worker that falls behind does not
 * earn a burst later.
 */
export class Pacer {
  private next = 0;
  private readonly spacingMs: number;

  constructor(rate: number) {
    this.spacingMs = 1000 / rate;
  }

  /** How long to wait before starting an operation at `now`. */
  delay(now: number): number {
    const slot = this.next > now ? this.next : now;
    this.next = slot + this.spacingMs;
    return slot - now;
  }
}

/** Sleeps that a stop wakes up early. */
class Stopper {
  stopped = false;
  private readonly wakers = new Set<() => void>();
  private resolveDone!: () => void;
  /** Resolves when stop() is called. */
  readonly done = new Promise<void>((resolve) => {
    this.resolveDone = resolve;
  });

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.resolveDone();
    for (const wake of this.wakers) wake();
    this.wakers.clear();
  }

  sleep(ms: number): Promise<void> {
    if (this.stopped || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakers.delete(wake);
        resolve();
      }, ms);
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      this.wakers.add(wake);
    });
  }
}

function validate(options: RunOptions): void {
  const whole = (name: string, value: number, min: number) => {
    if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`${name} must be a whole number ≥ ${min}, got ${value}`);
  };
  whole('concurrency', options.concurrency, 1);
  whole('ridersPerWorker', options.ridersPerWorker, 1);
  whole('durationMs', options.durationMs, 0);
  whole('rampMs', options.rampMs, 0);
  whole('seed', options.seed, 0);
  if (!Number.isFinite(options.maxRate) || options.maxRate < 0) throw new RangeError(`maxRate must be ≥ 0, got ${options.maxRate}`);
  if (options.cities.length === 0) throw new RangeError('cities must name at least one city');
}

/** The mix as run: writes the target cannot run get weight 0. */
function effectiveMix(mix: Mix, target: WorkloadTarget): Mix {
  const weights = { ...mix.weights };
  for (const op of target.unsupported.keys()) weights[op] = 0;
  const anyWrite = WRITE_OPERATIONS.some((op) => weights[op] > 0);
  return { readPercent: anyWrite ? mix.readPercent : 100, weights };
}

export async function runWorkload(target: WorkloadTarget, options: RunOptions): Promise<RunResult> {
  validate(options);
  const mix = effectiveMix(options.mix, target);
  const probabilities = new OperationPicker(mix, Math.random).probabilities();
  const active: Operation[] = [];
  if (probabilities[READ_OPERATION] > 0) active.push(READ_OPERATION);
  if (WRITE_OPERATIONS.some((op) => probabilities[op] > 0)) active.push(LOCATION_OPERATION);
  for (const op of WRITE_OPERATIONS) if (probabilities[op] > 0) active.push(op);
  const stats = new WorkloadStats(active, options.observer);
  const stopper = new Stopper();
  const onAbort = () => stopper.stop();
  if (options.signal?.aborted) stopper.stop();
  options.signal?.addEventListener('abort', onAbort);

  try {
    // Riders first, off the clock.
    const riders = await createRiders(target, options, stopper);
    const workers = riders.map((own, index) => new Worker(index, own, target, mix, stats, options, stopper));

    target.markRetries();
    const started = performance.now();
    let lastTick = started;
    const intervalMs = options.intervalMs ?? 1000;
    const ticker = setInterval(() => {
      const now = performance.now();
      const rows = stats.interval(now - started, now - lastTick);
      lastTick = now;
      options.onInterval?.(rows);
    }, intervalMs);
    const durationTimer = options.durationMs > 0 ? setTimeout(() => stopper.stop(), options.durationMs) : undefined;
    const pacer = options.maxRate > 0 ? new Pacer(options.maxRate) : undefined;
    const rampStep = options.concurrency > 1 ? options.rampMs / options.concurrency : 0;

    const running = workers.map((worker, i) => worker.run(started + i * rampStep, pacer));
    let abandoned = 0;
    await stopper.done;
    const finished = Promise.all(running).then(() => true);
    const inTime = await Promise.race([finished, sleep(options.stopGraceMs ?? 10_000, false, { ref: false })]);
    if (!inTime) abandoned = workers.filter((w) => w.busy).length;
    const ended = performance.now();
    clearInterval(ticker);
    clearTimeout(durationTimer);
    return {
      summary: stats.summary(ended - started, target.retries()),
      stoppedBy: options.signal?.aborted ? 'signal' : 'duration',
      probabilities,
      leftOut: Object.fromEntries(target.unsupported),
      abandoned,
    };
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    stopper.stop();
  }
}

/** Every worker's riders, spread over the cities, created a few at a time. */
async function createRiders(target: WorkloadTarget, options: RunOptions, stopper: Stopper): Promise<Rider[][]> {
  const total = options.concurrency * options.ridersPerWorker;
  options.onStatus?.(`creating ${total} riders (${options.ridersPerWorker} per worker) in ${options.cities.length} cities`);
  const riders: Rider[][] = Array.from({ length: options.concurrency }, () => []);
  const rng = new RowRandom(options.seed).reset(SETUP_KEY, 0);
  const jobs = Array.from({ length: total }, (_, n) => n);
  let next = 0;
  const parallel = Math.min(total, 8);
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < jobs.length && !stopper.stopped) {
        const n = next++;
        const worker = n % options.concurrency;
        const city = options.cities[n % options.cities.length] as string;
        const rider = await target.createRider(city, `w${worker}r${Math.floor(n / options.concurrency)}`, rng);
        riders[worker]!.push(rider);
      }
    }),
  );
  return riders;
}

class Worker {
  busy = false;
  private readonly rng: RowRandom;
  private readonly picker: OperationPicker;
  private readonly read: OperationStats | undefined;
  private readonly location: OperationStats | undefined;
  private readonly writes = new Map<WriteOperation, OperationStats>();
  private counter = 0;

  constructor(
    private readonly index: number,
    private readonly riders: Rider[],
    private readonly target: WorkloadTarget,
    mix: Mix,
    stats: WorkloadStats,
    private readonly options: RunOptions,
    private readonly stopper: Stopper,
  ) {
    this.rng = new RowRandom(options.seed).reset(RANDOM_KEY, index);
    const rng = this.rng;
    this.picker = new OperationPicker(mix, () => rng.float());
    const has = (op: Operation) => stats.operations.includes(op);
    this.read = has(READ_OPERATION) ? stats.of(READ_OPERATION) : undefined;
    this.location = has(LOCATION_OPERATION) ? stats.of(LOCATION_OPERATION) : undefined;
    for (const op of WRITE_OPERATIONS) if (has(op)) this.writes.set(op, stats.of(op));
  }

  async run(startAt: number, pacer: Pacer | undefined): Promise<void> {
    await this.stopper.sleep(startAt - performance.now());
    const cities = this.options.cities;
    let lastYield = performance.now();
    while (!this.stopper.stopped) {
      // PGlite answers in this thread, through promises alone: without a turn of the event loop
      // now and then, timers (the ticker, the end of the run) and signals would never run.
      const now = performance.now();
      if (now - lastYield > YIELD_EVERY_MS) {
        await yieldToEventLoop();
        lastYield = performance.now();
        if (this.stopper.stopped) break;
      }
      const op = this.picker.next();
      if (pacer) await this.stopper.sleep(pacer.delay(performance.now()));
      if (this.stopper.stopped) break;
      this.busy = true;
      if (op === READ_OPERATION) {
        // The hot path: no closure, one timing, one histogram record.
        const stats = this.read as OperationStats;
        const city = cities.length === 1 ? (cities[0] as string) : (cities[this.rng.int(cities.length)] as string);
        const t0 = performance.now();
        try {
          await this.target.readVehicles(city);
          stats.ok((performance.now() - t0) * 1000);
        } catch (error) {
          this.failed(stats, error, t0);
        }
      } else {
        await this.updateLocations(pacer);
        if (!this.stopper.stopped) await this.write(op);
      }
      this.busy = false;
    }
  }

  private failed(stats: OperationStats, error: unknown, t0: number): void {
    const outcome = classifyFailure(error);
    if ('conflict' in outcome) stats.conflict(outcome.conflict, (performance.now() - t0) * 1000);
    else stats.error(outcome.error);
  }

  /** The location of each open ride of the worker's riders, at most LOCATION_UPDATES_PER_WRITE. */
  private async updateLocations(pacer: Pacer | undefined): Promise<void> {
    const stats = this.location as OperationStats;
    let updated = 0;
    for (const rider of this.riders) {
      if (updated >= LOCATION_UPDATES_PER_WRITE) break;
      const ride = rider.openRide;
      if (!ride) continue;
      updated++;
      if (pacer) await this.stopper.sleep(pacer.delay(performance.now()));
      const t0 = performance.now();
      try {
        await this.target.recordLocation(rider, ride, this.rng);
        stats.ok((performance.now() - t0) * 1000);
      } catch (error) {
        this.failedOnRide(rider, stats, error, t0);
      }
    }
  }

  private async write(op: WriteOperation): Promise<void> {
    const stats = this.writes.get(op) as OperationStats;
    const rider = this.pickRider(op);
    if (op === 'end_ride' && !rider?.openRide) {
      stats.skip();
      return;
    }
    const t0 = performance.now();
    try {
      switch (op) {
        case 'create_promo_code':
          await this.target.createPromoCode(this.rng);
          break;
        case 'apply_promo_code':
          if (!(await this.target.applyPromoCode(rider as Rider, this.rng))) {
            stats.skip();
            return;
          }
          break;
        case 'add_user': {
          const city = this.options.cities[this.rng.int(this.options.cities.length)] as string;
          await this.target.addUser(city, `u${this.index}-${this.counter++}`, this.rng);
          break;
        }
        case 'add_vehicle':
          await this.target.addVehicle(rider as Rider, this.rng);
          break;
        case 'start_ride': {
          const r = rider as Rider;
          const ride = await this.target.startRide(r, this.rng);
          r.openRide = ride;
          r.openedAt = performance.now();
          r.rideInDoubt = false;
          break;
        }
        case 'end_ride': {
          const r = rider as Rider;
          await this.target.endRide(r, r.openRide!, this.rng);
          r.openRide = null;
          r.rideInDoubt = false;
          break;
        }
      }
      stats.ok((performance.now() - t0) * 1000);
    } catch (error) {
      if (op === 'end_ride' && rider) this.failedOnRide(rider, stats, error, t0);
      else this.failed(stats, error, t0);
    }
  }

  /**
   * A failed operation on a rider's open ride. A ride that ended already is no longer open; if an
   * earlier attempt to end it had an unknown outcome, that attempt committed after all, and
   * finding it ended is the expected answer, not a second error.
   */
  private failedOnRide(rider: Rider, stats: OperationStats, error: unknown, t0: number): void {
    if (isOutcomeUnknown(error)) rider.rideInDoubt = true;
    if (errorCode(error) === 'ride_already_ended') {
      const resolvesDoubt = rider.rideInDoubt;
      rider.openRide = null;
      rider.rideInDoubt = false;
      if (resolvesDoubt) {
        stats.conflict('ride_already_ended', (performance.now() - t0) * 1000);
        return;
      }
    }
    this.failed(stats, error, t0);
  }

  /**
   * start_ride: a random rider without an open ride, else any (who is refused with
   * ride_already_open); end_ride: the rider whose ride is the oldest; others: anyone.
   */
  private pickRider(op: WriteOperation): Rider | undefined {
    const riders = this.riders;
    if (op === 'end_ride') {
      let oldest: Rider | undefined;
      for (const r of riders) if (r.openRide && (!oldest || r.openedAt < oldest.openedAt)) oldest = r;
      return oldest;
    }
    if (op === 'start_ride') {
      let free = 0;
      for (const r of riders) if (!r.openRide) free++;
      if (free > 0) {
        let k = this.rng.int(free);
        for (const r of riders) if (!r.openRide && k-- === 0) return r;
      }
    }
    return riders[this.rng.int(riders.length)];
  }
}

/** The MovR error code of a failed operation (a domain error, or an API answer). */
function errorCode(error: unknown): ErrorCode | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? (code as ErrorCode) : undefined;
}
