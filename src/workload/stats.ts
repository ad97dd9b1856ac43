// Statistics of `movr workload run`: per operation, an HDR histogram of latencies since the
// start and one for the current one-second interval (reset every second), plus counters. Memory
// is fixed by the number of operations, not by how many are run or for how long: nothing is kept
// per operation executed.
//
// Every operation ends in one of four ways:
// - ok: it did what it was asked;
// - conflict: an expected refusal by MovR's rules (the vehicle was just taken, the rider already
//   has a ride, …): a normal answer, so it counts as an operation and its latency is recorded;
// - error: anything else (a bug, a lost connection, retries exhausted, an HTTP 5xx or 429): it is
//   counted by kind but neither in the operation count nor in the latencies;
// - skipped: there was nothing to do (end a ride when the worker has none open): not counted.
import { type Histogram, build } from 'hdr-histogram-js';
import { OPERATIONS, type Operation } from './mix.ts';

/** Latencies are recorded in microseconds, from 1 µs to one hour, with 3 significant digits. */
const LOWEST_MICROS = 1;
const HIGHEST_MICROS = 3_600_000_000;

function histogram(): Histogram {
  return build({
    lowestDiscernibleValue: LOWEST_MICROS,
    highestTrackableValue: HIGHEST_MICROS,
    numberOfSignificantValueDigits: 3,
    autoResize: false,
  });
}

function clampMicros(micros: number): number {
  if (!(micros >= LOWEST_MICROS)) return LOWEST_MICROS;
  return micros > HIGHEST_MICROS ? HIGHEST_MICROS : Math.round(micros);
}

function increment(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/**
 * Told of every operation as it ends (the live Prometheus metrics of `--prometheus-port`,
 * prometheus.ts). Latencies in microseconds.
 */
export interface OperationObserver {
  ok(operation: Operation, micros: number): void;
  conflict(operation: Operation, code: string, micros: number): void;
  error(operation: Operation, kind: string): void;
  skip(operation: Operation): void;
}

export class OperationStats {
  readonly cumulative = histogram();
  readonly interval = histogram();
  /** Operations answered: ok plus conflicts. */
  count = 0;
  intervalCount = 0;
  conflicts = 0;
  errors = 0;
  skipped = 0;
  readonly conflictsByKind = new Map<string, number>();
  readonly errorsByKind = new Map<string, number>();

  constructor(
    readonly operation: Operation,
    private readonly observer?: OperationObserver,
  ) {}

  ok(micros: number): void {
    this.record(micros);
    this.observer?.ok(this.operation, micros);
  }

  private record(micros: number): void {
    const value = clampMicros(micros);
    this.cumulative.recordValue(value);
    this.interval.recordValue(value);
    this.count++;
    this.intervalCount++;
  }

  conflict(code: string, micros: number): void {
    this.record(micros);
    this.conflicts++;
    increment(this.conflictsByKind, code);
    this.observer?.conflict(this.operation, code, micros);
  }

  error(kind: string): void {
    this.errors++;
    increment(this.errorsByKind, kind);
    this.observer?.error(this.operation, kind);
  }

  skip(): void {
    this.skipped++;
    this.observer?.skip(this.operation);
  }
}

/** One line of the per-second output. Latencies in milliseconds. */
export interface IntervalRow {
  operation: Operation;
  /** Seconds since the run started. */
  elapsedSec: number;
  /** Errors since the start. */
  errors: number;
  /** Operations in this interval. */
  ops: number;
  opsPerSecInst: number;
  opsPerSecCum: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface OperationSummary {
  operation: Operation | 'total';
  /** Operations answered (ok plus conflicts). */
  count: number;
  opsPerSec: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  conflicts: number;
  conflictsByKind: Record<string, number>;
  errors: number;
  errorsByKind: Record<string, number>;
  skipped: number;
}

export interface RetryCounts {
  /** SQLSTATE 40001 retries, all transactions. */
  total: number;
  byTransaction: Record<string, number>;
}

export interface Summary {
  elapsedSec: number;
  operations: OperationSummary[];
  total: OperationSummary;
  /** Null when they cannot be observed (over HTTP). */
  retries: RetryCounts | null;
}

const ms = (micros: number) => micros / 1000;

function percentiles(h: Histogram): Pick<IntervalRow, 'p50Ms' | 'p95Ms' | 'p99Ms' | 'maxMs'> {
  if (h.totalCount === 0) return { p50Ms: 0, p95Ms: 0, p99Ms: 0, maxMs: 0 };
  // A percentile is the top of its bucket, which can lie a hair above the largest value.
  const max = h.maxValue;
  const at = (p: number) => ms(Math.min(h.getValueAtPercentile(p), max));
  return { p50Ms: at(50), p95Ms: at(95), p99Ms: at(99), maxMs: ms(max) };
}

function sortedRecord(map: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...map].sort(([a], [b]) => a.localeCompare(b)));
}

export class WorkloadStats {
  private readonly byOperation = new Map<Operation, OperationStats>();

  constructor(
    readonly operations: readonly Operation[] = OPERATIONS,
    observer?: OperationObserver,
  ) {
    for (const op of operations) this.byOperation.set(op, new OperationStats(op, observer));
  }

  of(operation: Operation): OperationStats {
    const stats = this.byOperation.get(operation);
    if (!stats) throw new Error(`no statistics for ${operation}`);
    return stats;
  }

  /**
   * Ends an interval: one row per operation (interval figures since the last call, `intervalMs`
   * long), then resets the interval histograms and counts.
   */
  interval(elapsedMs: number, intervalMs: number): IntervalRow[] {
    const rows: IntervalRow[] = [];
    for (const stats of this.byOperation.values()) {
      rows.push({
        operation: stats.operation,
        elapsedSec: Math.round(elapsedMs) / 1000,
        errors: stats.errors,
        ops: stats.intervalCount,
        opsPerSecInst: intervalMs > 0 ? (stats.intervalCount * 1000) / intervalMs : 0,
        opsPerSecCum: elapsedMs > 0 ? (stats.count * 1000) / elapsedMs : 0,
        ...percentiles(stats.interval),
      });
      stats.interval.reset();
      stats.intervalCount = 0;
    }
    return rows;
  }

  summary(elapsedMs: number, retries: RetryCounts | null): Summary {
    const seconds = elapsedMs / 1000;
    const all = histogram();
    const totalConflicts = new Map<string, number>();
    const totalErrors = new Map<string, number>();
    let count = 0;
    let conflicts = 0;
    let errors = 0;
    let skipped = 0;
    const operations: OperationSummary[] = [];
    for (const stats of this.byOperation.values()) {
      all.add(stats.cumulative);
      count += stats.count;
      conflicts += stats.conflicts;
      errors += stats.errors;
      skipped += stats.skipped;
      for (const [kind, n] of stats.conflictsByKind) totalConflicts.set(kind, (totalConflicts.get(kind) ?? 0) + n);
      for (const [kind, n] of stats.errorsByKind) totalErrors.set(kind, (totalErrors.get(kind) ?? 0) + n);
      operations.push({
        operation: stats.operation,
        count: stats.count,
        opsPerSec: seconds > 0 ? stats.count / seconds : 0,
        meanMs: stats.count > 0 ? ms(stats.cumulative.mean) : 0,
        ...percentiles(stats.cumulative),
        conflicts: stats.conflicts,
        conflictsByKind: sortedRecord(stats.conflictsByKind),
        errors: stats.errors,
        errorsByKind: sortedRecord(stats.errorsByKind),
        skipped: stats.skipped,
      });
    }
    const total: OperationSummary = {
      operation: 'total',
      count,
      opsPerSec: seconds > 0 ? count / seconds : 0,
      meanMs: count > 0 ? ms(all.mean) : 0,
      ...percentiles(all),
      conflicts,
      conflictsByKind: sortedRecord(totalConflicts),
      errors,
      errorsByKind: sortedRecord(totalErrors),
      skipped,
    };
    all.destroy();
    return { elapsedSec: seconds, operations, total, retries };
  }
}

// ---------------------------------------------------------------------------------------------
// Text output, in the format of the CockroachDB workload.

export const INTERVAL_HEADER = '_elapsed___errors__ops/sec(inst)___ops/sec(cum)__p50(ms)__p95(ms)__p99(ms)_pMax(ms)';

const fixed = (value: number, digits: number, width: number) => value.toFixed(digits).padStart(width);

export function formatIntervalRow(row: IntervalRow): string {
  return (
    `${fixed(row.elapsedSec, 1, 7)}s` +
    `${String(row.errors).padStart(9)}` +
    `${fixed(row.opsPerSecInst, 1, 15)}` +
    `${fixed(row.opsPerSecCum, 1, 15)}` +
    `${fixed(row.p50Ms, 1, 9)}` +
    `${fixed(row.p95Ms, 1, 9)}` +
    `${fixed(row.p99Ms, 1, 9)}` +
    `${fixed(row.maxMs, 1, 9)} ${row.operation}`
  );
}

export const SUMMARY_HEADER =
  '_elapsed___errors_conflicts__ops(total)___ops/sec(cum)__p50(ms)__p95(ms)__p99(ms)_pMax(ms)__operation';

function formatSummaryRow(elapsedSec: number, op: OperationSummary): string {
  return (
    `${fixed(elapsedSec, 1, 7)}s` +
    `${String(op.errors).padStart(9)}` +
    `${String(op.conflicts).padStart(10)}` +
    `${String(op.count).padStart(12)}` +
    `${fixed(op.opsPerSec, 1, 15)}` +
    `${fixed(op.p50Ms, 1, 9)}` +
    `${fixed(op.p95Ms, 1, 9)}` +
    `${fixed(op.p99Ms, 1, 9)}` +
    `${fixed(op.maxMs, 1, 9)}  ${op.operation}`
  );
}

function formatKinds(record: Record<string, number>): string {
  return Object.entries(record)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ');
}

/** The end-of-run table: a row per operation that ran, a total row, then errors, conflicts and retries. */
export function formatSummary(summary: Summary): string {
  const lines = [SUMMARY_HEADER];
  for (const op of summary.operations) {
    if (op.count === 0 && op.errors === 0 && op.skipped === 0) continue;
    lines.push(formatSummaryRow(summary.elapsedSec, op));
  }
  lines.push(formatSummaryRow(summary.elapsedSec, summary.total));
  lines.push('');
  const { total } = summary;
  lines.push(`errors: ${total.errors}${total.errors > 0 ? ` (${formatKinds(total.errorsByKind)})` : ''}`);
  for (const op of summary.operations) {
    if (op.errors > 0) lines.push(`  ${op.operation}: ${formatKinds(op.errorsByKind)}`);
  }
  lines.push(
    `expected conflicts: ${total.conflicts}${total.conflicts > 0 ? ` (${formatKinds(total.conflictsByKind)})` : ''}`,
  );
  for (const op of summary.operations) {
    if (op.conflicts > 0) lines.push(`  ${op.operation}: ${formatKinds(op.conflictsByKind)}`);
  }
  if (total.skipped > 0) {
    const skipped = summary.operations.filter((op) => op.skipped > 0).map((op) => `${op.operation} ${op.skipped}`);
    lines.push(`skipped, nothing to do: ${total.skipped} (${skipped.join(', ')})`);
  }
  if (summary.retries === null) {
    lines.push('retries (SQLSTATE 40001): not observable over HTTP');
  } else {
    const detail = formatKinds(summary.retries.byTransaction);
    lines.push(`retries (SQLSTATE 40001): ${summary.retries.total}${detail ? ` (${detail})` : ''}`);
  }
  return lines.join('\n');
}
