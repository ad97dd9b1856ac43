// `movr workload run`: the mix and its flags, the statistics and their output, real runs against
// the databases (counts add up, contention causes retries but no errors, the data stays
// consistent), the HTTP target against an in-process server, and the command itself.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createUser } from '../../src/movr/users.ts';
import { addVehicle, prepareCityVehiclesRead } from '../../src/movr/vehicles.ts';
import { startServer } from '../../src/web/server.ts';
import { checkInvariants } from '../../src/workload/check.ts';
import { DirectTarget } from '../../src/workload/direct-target.ts';
import { leanCountingRead } from '../../src/workload/lean-read.ts';
import { HttpTarget } from '../../src/workload/http-target.ts';
import { DEFAULT_INIT_OPTIONS, formatTimestamp, initWorkload } from '../../src/workload/init.ts';
import {
  DEFAULT_MIX,
  DEFAULT_WRITE_WEIGHTS,
  MixError,
  OperationPicker,
  type PickedOperation,
  READ_OPERATION,
  WRITE_OPERATIONS,
  parseCities,
  parseDuration,
  parseWeights,
} from '../../src/workload/mix.ts';
import { RowRandom } from '../../src/workload/random.ts';
import { JsonReport, intervalPrinter } from '../../src/workload/report.ts';
import { Pacer, type RunOptions, type RunResult, runWorkload } from '../../src/workload/run.ts';
import { INTERVAL_HEADER, type IntervalRow, type Summary, WorkloadStats, formatIntervalRow, formatSummary } from '../../src/workload/stats.ts';
import { HttpError, WorkloadConflict, classifyFailure } from '../../src/workload/target.ts';
import { ConflictError, NotFoundError } from '../../src/movr/errors.ts';
import { AmbiguousCommitError, TransactionRetriesExhaustedError } from '../../src/db/errors.ts';
import { MOVR_BIN, runMovr, scratchDir } from '../support/cli.ts';
import { TEST_SECRET_KEY, testConfig } from '../support/config.ts';
import { createTestDatabase, describeEachDatabase, emptyTables } from '../support/databases.ts';
import { DEFAULT_REGION_MAP } from '../../src/region-map.ts';
import { TEST_CITIES } from '../support/factories.ts';

const ALL_WEIGHTS_ZERO = Object.fromEntries(WRITE_OPERATIONS.map((op) => [op, 0])) as Record<(typeof WRITE_OPERATIONS)[number], number>;

function pickCounts(picker: OperationPicker, picks: number): Record<PickedOperation, number> {
  const counts = Object.fromEntries([READ_OPERATION, ...WRITE_OPERATIONS].map((op) => [op, 0])) as Record<PickedOperation, number>;
  for (let i = 0; i < picks; i++) counts[picker.next()]++;
  return counts;
}

function seeded(seed: number): () => number {
  const rng = new RowRandom(seed).reset(1, 0);
  return () => rng.float();
}

/** Every count in a summary adds up: operations to the total, kinds to their totals. */
function expectConsistentSummary(summary: Summary): void {
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  const { operations, total } = summary;
  expect(sum(operations.map((op) => op.count))).toBe(total.count);
  expect(sum(operations.map((op) => op.errors))).toBe(total.errors);
  expect(sum(operations.map((op) => op.conflicts))).toBe(total.conflicts);
  expect(sum(operations.map((op) => op.skipped))).toBe(total.skipped);
  expect(sum(Object.values(total.errorsByKind))).toBe(total.errors);
  expect(sum(Object.values(total.conflictsByKind))).toBe(total.conflicts);
  for (const op of operations) {
    expect(sum(Object.values(op.errorsByKind)), op.operation).toBe(op.errors);
    expect(sum(Object.values(op.conflictsByKind)), op.operation).toBe(op.conflicts);
    expect(op.conflicts).toBeLessThanOrEqual(op.count);
    if (op.count > 0) {
      expect(op.p50Ms).toBeGreaterThan(0);
      expect(op.p50Ms).toBeLessThanOrEqual(op.p95Ms);
      expect(op.p95Ms).toBeLessThanOrEqual(op.p99Ms);
      expect(op.p99Ms).toBeLessThanOrEqual(op.maxMs);
      expect(op.maxMs).toBeLessThanOrEqual(total.maxMs);
    }
  }
  expect(total.opsPerSec).toBeCloseTo(total.count / summary.elapsedSec, 6);
}

describe('the operation mix', () => {
  it('picks the default mix in its proportions over 100,000 seeded picks', () => {
    const picks = 100_000;
    const counts = pickCounts(new OperationPicker(DEFAULT_MIX, seeded(7)), picks);
    expect(counts.read_vehicles / picks).toBeCloseTo(0.95, 2);
    const writes = picks - counts.read_vehicles;
    const total = WRITE_OPERATIONS.reduce((sum, op) => sum + DEFAULT_WRITE_WEIGHTS[op], 0);
    for (const op of WRITE_OPERATIONS) {
      const expected = DEFAULT_WRITE_WEIGHTS[op] / total;
      // Within 4 standard deviations of the binomial share among ~5,000 writes.
      const tolerance = 4 * Math.sqrt((expected * (1 - expected)) / writes);
      expect(Math.abs(counts[op] / writes - expected), op).toBeLessThan(tolerance);
    }
  });

  it('is deterministic for a seed, and follows changed weights and read percent', () => {
    const mix = { readPercent: 20, weights: parseWeights('start_ride=0.5,end_ride=0.5,add_user=0') };
    const a = pickCounts(new OperationPicker(mix, seeded(3)), 100_000);
    const b = pickCounts(new OperationPicker(mix, seeded(3)), 100_000);
    expect(a).toEqual(b);
    expect(a.read_vehicles / 100_000).toBeCloseTo(0.2, 2);
    expect(a.add_user).toBe(0);
    // start 0.5, end 0.5 against the other defaults: 0.03 + 0.10 + 0.10
    const writes = 100_000 - a.read_vehicles;
    expect(a.start_ride / writes).toBeCloseTo(0.5 / 1.23, 1);
    expect(a.end_ride / writes).toBeCloseTo(0.5 / 1.23, 1);
    const probabilities = new OperationPicker(mix, seeded(3)).probabilities();
    expect(Object.values(probabilities).reduce((x, y) => x + y, 0)).toBeCloseTo(1, 10);
    expect(probabilities.start_ride).toBeCloseTo(0.8 * (0.5 / 1.23), 10);
  });

  it('reads only, at 100 percent, and writes only, at 0', () => {
    const reads = pickCounts(new OperationPicker({ readPercent: 100, weights: DEFAULT_WRITE_WEIGHTS }, seeded(1)), 10_000);
    expect(reads.read_vehicles).toBe(10_000);
    const writes = pickCounts(new OperationPicker({ readPercent: 0, weights: DEFAULT_WRITE_WEIGHTS }, seeded(1)), 10_000);
    expect(writes.read_vehicles).toBe(0);
    expect(() => new OperationPicker({ readPercent: 50, weights: ALL_WEIGHTS_ZERO }, seeded(1))).toThrow(MixError);
    expect(() => new OperationPicker({ readPercent: 100, weights: ALL_WEIGHTS_ZERO }, seeded(1))).not.toThrow();
    expect(() => new OperationPicker({ readPercent: 101, weights: DEFAULT_WRITE_WEIGHTS }, seeded(1))).toThrow(/read-percent/);
  });

  it('parses --weights, --cities and durations, and names what is wrong', () => {
    expect(parseWeights('start-ride=0.5, end_ride = 0.2,')).toMatchObject({ start_ride: 0.5, end_ride: 0.2, add_user: 0.3 });
    expect(() => parseWeights('fly=1')).toThrow(/unknown operation "fly"/);
    expect(() => parseWeights('start_ride')).toThrow(/operation=weight/);
    expect(() => parseWeights('start_ride=-1')).toThrow(MixError);
    expect(parseCities(undefined, DEFAULT_REGION_MAP)).toHaveLength(9);
    expect(parseCities('Paris, us-west1,paris', DEFAULT_REGION_MAP)).toEqual(['san francisco', 'seattle', 'los angeles', 'paris']);
    expect(parseCities('europe-west1', DEFAULT_REGION_MAP)).toEqual(['amsterdam', 'paris', 'rome']);
    expect(() => parseCities('atlantis', DEFAULT_REGION_MAP)).toThrow(/"atlantis" is neither a city/);
    expect(parseDuration('60s')).toBe(60_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('10')).toBe(10_000);
    expect(() => parseDuration('forever')).toThrow(/--duration must be a duration/);
  });
});

describe('the pacer', () => {
  it('spaces operation starts 1/rate apart across callers, without saving up bursts', () => {
    const pacer = new Pacer(100); // 10 ms apart
    expect(pacer.delay(1000)).toBe(0);
    expect(pacer.delay(1000)).toBe(10);
    expect(pacer.delay(1001)).toBe(19);
    // Idle for a while: the next start is now, not a burst of the missed slots.
    expect(pacer.delay(5000)).toBe(0);
    expect(pacer.delay(5000)).toBe(10);
  });
});

describe('statistics and their output', () => {
  it('keep counts and latencies per operation, reset each interval, and add up in the summary', () => {
    const stats = new WorkloadStats(['read_vehicles', 'start_ride']);
    const read = stats.of('read_vehicles');
    for (let i = 1; i <= 100; i++) read.ok(i * 1000); // 1..100 ms
    const start = stats.of('start_ride');
    start.ok(5000);
    start.conflict('vehicle_unavailable', 2000);
    start.error('retries_exhausted');
    start.error('retries_exhausted');
    start.skip();
    const [readRow, startRow] = stats.interval(1000, 1000);
    expect(readRow).toMatchObject({ operation: 'read_vehicles', ops: 100, opsPerSecInst: 100, errors: 0 });
    expect(readRow?.p50Ms).toBeCloseTo(50, 0);
    expect(readRow?.p99Ms).toBeCloseTo(99, 0);
    expect(readRow?.maxMs).toBeCloseTo(100, 0);
    expect(startRow).toMatchObject({ ops: 2, errors: 2 });
    // The next interval starts empty; the cumulative figures do not.
    read.ok(7000);
    const [second] = stats.interval(2000, 1000);
    expect(second).toMatchObject({ ops: 1, opsPerSecInst: 1, opsPerSecCum: 50.5 });
    expect(second?.maxMs).toBeCloseTo(7, 1);

    const summary = stats.summary(2000, { total: 3, byTransaction: { start_ride: 3 } });
    expectConsistentSummary(summary);
    expect(summary.total).toMatchObject({
      count: 103,
      conflicts: 1,
      errors: 2,
      skipped: 1,
      errorsByKind: { retries_exhausted: 2 },
      conflictsByKind: { vehicle_unavailable: 1 },
    });
    expect(summary.total.maxMs).toBeCloseTo(100, 0);
    const text = formatSummary(summary);
    expect(text).toMatch(/^_elapsed___errors_conflicts__ops\(total\)/);
    expect(text).toMatch(/ 103 +51\.5 .* total$/m);
    expect(text).toContain('errors: 2 (retries_exhausted 2)');
    expect(text).toContain('expected conflicts: 1 (vehicle_unavailable 1)');
    expect(text).toContain('retries (SQLSTATE 40001): 3 (start_ride 3)');
    expect(formatSummary(stats.summary(2000, null))).toContain('not observable over HTTP');
  });

  it('prints per-second lines in the CockroachDB workload format, the header every 20 seconds', () => {
    const row: IntervalRow = {
      operation: 'read_vehicles',
      elapsedSec: 3,
      errors: 0,
      ops: 1436,
      opsPerSecInst: 1436.1,
      opsPerSecCum: 1400.25,
      p50Ms: 3.5,
      p95Ms: 8.4,
      p99Ms: 13.1,
      maxMs: 25.2,
    };
    const line = formatIntervalRow(row);
    expect(line).toBe('    3.0s        0         1436.1         1400.3      3.5      8.4     13.1     25.2 read_vehicles');
    // Columns line up under the header's fields.
    expect(line.indexOf('1436.1') + '1436.1'.length).toBe(INTERVAL_HEADER.indexOf('ops/sec(inst)') + 'ops/sec(inst)'.length);
    const output: string[] = [];
    const print = intervalPrinter((text) => output.push(text));
    for (let i = 0; i < 21; i++) print([row]);
    expect(output.filter((text) => text === `${INTERVAL_HEADER}\n`)).toHaveLength(2);
  });

  it('write the --json file as the run goes: the series, then the summary', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'movr-json-'));
    try {
      const file = path.join(dir, 'run.json');
      const stats = new WorkloadStats(['read_vehicles']);
      const report = new JsonReport(file);
      stats.of('read_vehicles').ok(1500);
      report.interval(stats.interval(1000, 1000));
      report.interval(stats.interval(2000, 1000));
      report.finish(stats.summary(2000, null), { concurrency: 1 });
      const json = JSON.parse(readFileSync(file, 'utf8')) as { series: { elapsedSec: number; operations: Record<string, IntervalRow> }[]; summary: Summary; run: unknown };
      expect(json.series.map((s) => s.elapsedSec)).toEqual([1, 2]);
      expect(json.series[0]?.operations.read_vehicles?.ops).toBe(1);
      expect(json.summary.total.count).toBe(1);
      expect(json.run).toEqual({ concurrency: 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sorts failures into expected conflicts and errors by kind', () => {
    expect(classifyFailure(new ConflictError('taken', 'vehicle_unavailable'))).toEqual({ conflict: 'vehicle_unavailable' });
    expect(classifyFailure(new ConflictError('ended', 'ride_already_ended'))).toEqual({ error: 'ride_already_ended' });
    expect(classifyFailure(new NotFoundError('gone', 'ride_not_found'))).toEqual({ error: 'ride_not_found' });
    expect(classifyFailure(new WorkloadConflict('no_vehicle_available', 'none'))).toEqual({ conflict: 'no_vehicle_available' });
    expect(classifyFailure(new HttpError(409, 'ride_already_open', 'x'))).toEqual({ conflict: 'ride_already_open' });
    expect(classifyFailure(new HttpError(429, 'too_many_requests', 'x'))).toEqual({ error: 'rate_limited' });
    expect(classifyFailure(new HttpError(500, 'internal', 'x'))).toEqual({ error: 'http_500_internal' });
    expect(classifyFailure(new TransactionRetriesExhaustedError('start_ride', 10, { cause: null }))).toEqual({ error: 'retries_exhausted' });
    expect(classifyFailure(Object.assign(new Error('db'), { code: '23505' }))).toEqual({ error: 'sqlstate_23505' });
    expect(classifyFailure(Object.assign(new Error('net'), { code: 'ECONNREFUSED' }))).toEqual({ error: 'connection_econnrefused' });
    expect(classifyFailure(new TypeError('bug'))).toEqual({ error: 'unexpected_TypeError' });
  });
});

const BASE_TIME = new Date();
BASE_TIME.setUTCMinutes(0, 0, 0);

function runOptions(overrides: Partial<RunOptions> = {}): RunOptions {
  return {
    durationMs: 1500,
    concurrency: 4,
    maxRate: 0,
    rampMs: 0,
    seed: 1,
    mix: DEFAULT_MIX,
    cities: parseCities(undefined, DEFAULT_REGION_MAP),
    ridersPerWorker: 2,
    ...overrides,
  };
}

describeEachDatabase('runWorkload, direct', (t) => {
  beforeAll(async () => {
    await initWorkload(t.db, { ...DEFAULT_INIT_OPTIONS, numVehicles: 60, drop: true, baseTime: BASE_TIME, demoPasswords: 'fixed' });
  });

  it('reads lean on a server database: the same statement and rows as the domain read', async () => {
    const domainRead = prepareCityVehiclesRead(t.db.orm);
    const lean = leanCountingRead(t.db, domainRead.sql);
    if (t.kind === 'pglite') {
      expect(lean).toBeUndefined();
      return;
    }
    expect(lean).toBeDefined();
    for (const city of ['new york', 'paris', 'nowhere']) expect(await lean!(city)).toBe(await domainRead(city));
    // A failing statement is reported with its SQLSTATE and leaves the pool usable.
    const broken = leanCountingRead(t.db, 'SELECT 1 FROM no_such_table WHERE $1::text IS NOT NULL')!;
    await expect(broken('x')).rejects.toMatchObject({ code: '42P01' });
    expect(await lean!('rome')).toBe(await domainRead('rome'));
  });

  it('runs a short seeded mix whose counts add up and leaves the data consistent', async () => {
    const rows: IntervalRow[][] = [];
    const result = await runWorkload(
      new DirectTarget(t.db, TEST_CITIES),
      runOptions({ mix: { readPercent: 50, weights: DEFAULT_WRITE_WEIGHTS }, intervalMs: 300, onInterval: (r) => rows.push(r) }),
    );
    const { summary } = result;
    expectConsistentSummary(summary);
    expect(result.stoppedBy).toBe('duration');
    expect(summary.total.errors, JSON.stringify(summary.total.errorsByKind)).toBe(0);
    expect(summary.elapsedSec).toBeGreaterThanOrEqual(1.5);
    expect(summary.elapsedSec).toBeLessThan(5);
    const byOp = Object.fromEntries(summary.operations.map((op) => [op.operation, op]));
    expect(byOp.read_vehicles?.count).toBeGreaterThan(10);
    expect(byOp.start_ride?.count).toBeGreaterThan(0);
    expect(byOp.add_user?.count).toBeGreaterThan(0);
    // Reads are about half of the operations the mix picked (location updates are not picked).
    const picked = summary.total.count + summary.total.skipped + summary.total.errors - (byOp.record_location?.count ?? 0);
    expect(byOp.read_vehicles!.count / picked).toBeGreaterThan(0.35);
    expect(byOp.read_vehicles!.count / picked).toBeLessThan(0.65);
    // A row per operation that can run, about every 300 ms.
    expect(rows.length).toBeGreaterThanOrEqual(3);
    expect(rows[0]?.map((r) => r.operation)).toEqual(summary.operations.map((op) => op.operation));
    expect(summary.retries).not.toBeNull();
    const check = await checkInvariants(t.db);
    expect(check.failed).toEqual([]);
  });

  it('follows --cities and the weights: only rides in one city', async () => {
    const since = formatTimestamp(Date.now());
    const result = await runWorkload(
      new DirectTarget(t.db, TEST_CITIES),
      runOptions({
        durationMs: 800,
        cities: ['rome'],
        mix: { readPercent: 0, weights: { ...ALL_WEIGHTS_ZERO, start_ride: 1, end_ride: 1 } },
      }),
    );
    expectConsistentSummary(result.summary);
    expect(result.summary.operations.map((op) => op.operation)).toEqual(['record_location', 'start_ride', 'end_ride']);
    expect(result.summary.total.errors).toBe(0);
    const cities = await t.db.execute(
      'SELECT DISTINCT city FROM rides WHERE start_time >= $1::timestamp',
      [since],
    );
    expect(cities.map((row) => row.city)).toEqual(['rome']);
  });

  it('counts a ride found ended after an ambiguous end as a conflict, not a second error', async () => {
    // The first end of each ride commits but loses its answer, as a cut during COMMIT does.
    class LostAnswers extends DirectTarget {
      override async endRide(...args: Parameters<DirectTarget['endRide']>): Promise<void> {
        const [, ride] = args;
        if (!lost.has(ride.id)) {
          lost.add(ride.id);
          await super.endRide(...args);
          throw new AmbiguousCommitError('end_ride', { cause: new Error('connection lost during COMMIT') });
        }
        return super.endRide(...args);
      }
    }
    const lost = new Set<string>();
    const result = await runWorkload(
      new LostAnswers(t.db, TEST_CITIES),
      runOptions({ durationMs: 800, cities: ['seattle'], mix: { readPercent: 0, weights: { ...ALL_WEIGHTS_ZERO, start_ride: 1, end_ride: 1 } } }),
    );
    expect(lost.size).toBeGreaterThan(0);
    expect(result.summary.total.errorsByKind).toEqual({ ambiguous_commit: lost.size });
    // A ride whose end was in doubt is found ended by the next end or location update: an expected conflict.
    const foundEnded = result.summary.operations.map((op) => op.conflictsByKind.ride_already_ended ?? 0).reduce((a, b) => a + b, 0);
    expect(foundEnded).toBeGreaterThan(0);
    expect(foundEnded).toBeLessThanOrEqual(lost.size);
  });

  it('stops when signalled and still reports what ran', async () => {
    const stop = new AbortController();
    const running = runWorkload(new DirectTarget(t.db, TEST_CITIES), runOptions({ durationMs: 0, signal: stop.signal }));
    setTimeout(() => stop.abort(), 600);
    const started = Date.now();
    const result = await running;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result.stoppedBy).toBe('signal');
    expect(result.summary.total.count).toBeGreaterThan(0);
    expectConsistentSummary(result.summary);
  });

  it('keeps to --max-rate with several workers', async () => {
    const result = await runWorkload(new DirectTarget(t.db, TEST_CITIES), runOptions({ durationMs: 1500, maxRate: 40, concurrency: 4 }));
    expectConsistentSummary(result.summary);
    const started = result.summary.total.count + result.summary.total.errors + result.summary.total.skipped;
    expect(started).toBeGreaterThan(20);
    expect(started).toBeLessThanOrEqual(40 * 1.5 + 5);
  });
});

describeEachDatabase(
  'runWorkload under contention',
  (t) => {
    beforeEach(async () => {
      await emptyTables(t.db);
    });

    it('16 workers, 3 vehicles: retries but no errors, and a clean check', { timeout: 60_000 }, async () => {
      const owner = await createUser(t.db, { name: 'Fleet Owner', city: 'new york' }, TEST_CITIES);
      for (let i = 0; i < 3; i++) await addVehicle(t.db, owner, { type: 'scooter', color: 'black', location: `${i} Broadway` }, TEST_CITIES);
      const result = await runWorkload(
        new DirectTarget(t.db, TEST_CITIES),
        runOptions({
          durationMs: 4000,
          concurrency: 16,
          ridersPerWorker: 1,
          cities: ['new york'],
          mix: { readPercent: 0, weights: { ...ALL_WEIGHTS_ZERO, start_ride: 0.5, end_ride: 0.5 } },
        }),
      );
      const { summary } = result;
      expectConsistentSummary(summary);
      expect(summary.total.errors, JSON.stringify(summary.total.errorsByKind)).toBe(0);
      expect(summary.retries?.total).toBeGreaterThan(0);
      const starts = summary.operations.find((op) => op.operation === 'start_ride');
      expect(starts?.conflictsByKind.vehicle_unavailable ?? 0).toBeGreaterThan(0);
      expect(summary.operations.find((op) => op.operation === 'end_ride')?.count).toBeGreaterThan(0);
      expect(formatSummary(summary)).toMatch(/retries \(SQLSTATE 40001\): [1-9]\d* \(/);
      const check = await checkInvariants(t.db);
      expect(check.failed).toEqual([]);
    });
  },
  { kinds: ['postgres'], open: { poolSize: 16 } },
);

describe('runWorkload over HTTP, against an in-process server [pglite]', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;

  beforeAll(async () => {
    database = await createTestDatabase('pglite');
    await initWorkload(database.db, { ...DEFAULT_INIT_OPTIONS, numVehicles: 60, drop: true, baseTime: BASE_TIME, demoPasswords: 'fixed' });
    const config = testConfig({ HOST: '127.0.0.1', PORT: '0', MOVR_API_RATE_LIMIT: '0', MOVR_PER_ADDRESS_LOGIN_LIMITS: '0', SECRET_KEY: TEST_SECRET_KEY });
    server = await startServer({ config, db: database.db, logger: false });
  });

  afterAll(async () => {
    await server?.close();
    await database?.destroy();
  });

  it('registers and logs in riders, runs the mix through the JSON API, and leaves the data consistent', { timeout: 60_000 }, async () => {
    const target = new HttpTarget(server.url, { ...TEST_CITIES, connections: 2, operatorDb: database.db });
    let result: RunResult;
    try {
      result = await runWorkload(
        target,
        runOptions({
          durationMs: 2000,
          concurrency: 2,
          ridersPerWorker: 1,
          maxRate: 40,
          mix: { readPercent: 50, weights: { ...DEFAULT_WRITE_WEIGHTS, create_promo_code: 0.3 } },
        }),
      );
    } finally {
      await target.close();
    }
    const { summary } = result;
    expectConsistentSummary(summary);
    expect(summary.total.errors, JSON.stringify(summary.total.errorsByKind)).toBe(0);
    expect(summary.retries).toBeNull();
    // create_promo_code runs through the operators' API, as an operator the workload made.
    expect(result.leftOut).not.toHaveProperty('create_promo_code');
    const byOp = Object.fromEntries(summary.operations.map((op) => [op.operation, op]));
    expect(byOp.create_promo_code?.count).toBeGreaterThan(0);
    const created = await database.db.execute(
      `SELECT count(*)::int AS n FROM operator_actions WHERE action = 'promo_code_created' AND operator_username LIKE 'wl-%'`,
    );
    expect(created[0]?.n).toBe(byOp.create_promo_code?.count);
    // Without the server's database there is no operator: create_promo_code is left out.
    const withoutDb = new HttpTarget(server.url, TEST_CITIES);
    expect(withoutDb.unsupported.get('create_promo_code')).toMatch(/--db/);
    await withoutDb.close();
    expect(byOp.read_vehicles?.count).toBeGreaterThan(5);
    const riders = await database.db.execute(`SELECT count(*)::int AS n FROM user_credentials WHERE username LIKE 'wl-%'`);
    expect(riders[0]?.n).toBeGreaterThanOrEqual(2);
    expect(formatSummary(summary)).toContain('retries (SQLSTATE 40001): not observable over HTTP');
    const check = await checkInvariants(database.db);
    expect(check.failed).toEqual([]);
  });

  it('reports the API’s error codes: a bad token is an error by kind', async () => {
    const target = new HttpTarget(server.url, TEST_CITIES);
    try {
      const rider = { city: 'rome', id: '00000000-0000-4000-8000-000000000000', token: 'movr_bad.token', openRide: null, openedAt: 0, rideInDoubt: false };
      const failure = await target.addVehicle(rider, new RowRandom(1).reset(0, 0)).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(HttpError);
      expect(classifyFailure(failure)).toEqual({ error: expect.stringMatching(/^http_401_/) });
    } finally {
      await target.close();
    }
  });
});

describe('movr workload run', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;

  beforeAll(async () => {
    database = await createTestDatabase('pglite');
    await initWorkload(database.db, { ...DEFAULT_INIT_OPTIONS, drop: true, baseTime: BASE_TIME, demoPasswords: 'fixed' });
    await database.db.close(); // the command opens the folder itself
  });

  afterAll(async () => {
    await database?.destroy();
  });

  it('prints per-second lines, a summary and a clean check, and exits 0', { timeout: 60_000 }, async () => {
    const dir = scratchDir();
    const json = path.join(dir, 'run.json');
    const result = await runMovr(['workload', 'run', '--db', database.url, '--duration', '2s', '--concurrency', '4', '--json', json], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines).toContain(INTERVAL_HEADER);
    const perSecond = lines.filter((line) => /^ +\d+\.\ds +0 +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+ read_vehicles$/.test(line));
    expect(perSecond.length).toBeGreaterThanOrEqual(1);
    expect(result.stdout).toMatch(/^_elapsed___errors_conflicts__ops\(total\)/m);
    expect(result.stdout).toMatch(/^ +\d+\.\ds +0 +\d+ +\d+ +[\d.]+ .* total$/m);
    expect(result.stdout).toContain('errors: 0');
    expect(result.stdout).toMatch(/retries \(SQLSTATE 40001\): \d+/);
    expect(result.stdout).toContain('check: all 14 invariants hold');
    const report = JSON.parse(readFileSync(json, 'utf8')) as { series: unknown[]; summary: Summary; run: { concurrency: number } };
    expect(report.series.length).toBeGreaterThanOrEqual(1);
    expect(report.run.concurrency).toBe(4);
    expectConsistentSummary(report.summary);
  });

  it('refuses bad flags with exit code 2', { timeout: 90_000 }, async () => {
    const cases = [
      [['--duration', 'forever'], '--duration must be a duration'],
      [['--weights', 'fly=1'], 'unknown operation "fly"'],
      [['--cities', 'atlantis'], '"atlantis" is neither a city'],
      [['--concurrency', '0'], '--concurrency must be a whole number ≥ 1'],
      [['--read-percent', '50', '--weights', Object.keys(ALL_WEIGHTS_ZERO).map((op) => `${op}=0`).join(',')], 'every write weight is 0'],
      [['--target', 'ftp://example.com'], '--target must be an http'],
    ] as const;
    const results = await Promise.all(cases.map(([args]) => runMovr(['workload', 'run', '--db', 'pglite:memory', ...args])));
    cases.forEach(([args, message], i) => {
      const result = results[i]!;
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain(message);
    });
  });

  it('refuses a database with pending migrations', { timeout: 60_000 }, async () => {
    const result = await runMovr(['workload', 'run', '--db', 'pglite:memory', '--duration', '1s']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/pending migration statements: run "movr db migrate" first/);
  });

  it('stops cleanly on Ctrl-C (SIGINT): the summary and the check, exit 0', { timeout: 60_000 }, async () => {
    const child = spawn(process.execPath, [MOVR_BIN, 'workload', 'run', '--db', database.url, '--duration', '60s', '--concurrency', '2'], {
      cwd: scratchDir(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no per-second line in time:\n${stdout}\n${stderr}`)), 45_000);
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (/ read_vehicles\n/.test(stdout)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const signalled = Date.now();
    child.kill('SIGINT');
    const code = await exited;
    expect(code, stderr).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(10_000);
    expect(stderr).toContain('stopping');
    expect(stdout).toMatch(/^_elapsed___errors_conflicts__ops\(total\)/m);
    expect(stdout).toMatch(/ total$/m);
    expect(stdout).toContain('check: all 14 invariants hold');
  });
});
