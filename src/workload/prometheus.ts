// `movr workload run --prometheus-port <port>`: the run's figures live, in the Prometheus text
// format at http://<host>:<port>/metrics, as `cockroach workload` serves them:
//
//   movr_workload_operations_total{operation,outcome}      ok or conflict (an expected refusal)
//   movr_workload_errors_total{operation,kind}
//   movr_workload_skipped_total{operation}                 nothing to do (no open ride to end)
//   movr_workload_operation_duration_seconds{operation}    histogram of ok and conflict latencies
//   movr_workload_retries_total{transaction}               40001 retries (direct runs only)
//   process_* and nodejs_*                                 the workload process itself
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { type MetricsServer, serveMetrics } from '../web/metrics-server.ts';
import type { Operation } from './mix.ts';
import type { OperationObserver, RetryCounts } from './stats.ts';

/** Seconds: from half a millisecond to ten seconds, as operation latencies go. */
export const OPERATION_DURATION_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10];

/** One operation's series, labelled once. */
interface Children {
  ok: ReturnType<Counter['labels']>;
  conflict: ReturnType<Counter['labels']>;
  duration: ReturnType<Histogram['labels']>;
}

export class WorkloadMetrics implements OperationObserver {
  readonly registry = new Registry();
  private readonly operations = new Counter({
    name: 'movr_workload_operations_total',
    help: 'Operations answered, by operation and outcome (ok, or conflict: an expected refusal by MovR’s rules).',
    labelNames: ['operation', 'outcome'],
    registers: [this.registry],
  });
  private readonly errors = new Counter({
    name: 'movr_workload_errors_total',
    help: 'Operations that failed, by operation and kind of error.',
    labelNames: ['operation', 'kind'],
    registers: [this.registry],
  });
  private readonly skipped = new Counter({
    name: 'movr_workload_skipped_total',
    help: 'Operations skipped because there was nothing to do (end a ride with none open).',
    labelNames: ['operation'],
    registers: [this.registry],
  });
  private readonly durations = new Histogram({
    name: 'movr_workload_operation_duration_seconds',
    help: 'Latency of operations answered (ok and conflicts), by operation.',
    labelNames: ['operation'],
    buckets: OPERATION_DURATION_BUCKETS,
    registers: [this.registry],
  });
  private readonly children = new Map<Operation, Children>();

  /** `retries`: the target's 40001 retries so far (null when not observable, over HTTP). */
  constructor(operations: readonly Operation[], retries: () => RetryCounts | null) {
    collectDefaultMetrics({ register: this.registry });
    for (const operation of operations) {
      // Every operation's series exist from the start, at 0.
      this.operations.inc({ operation, outcome: 'ok' }, 0);
      this.operations.inc({ operation, outcome: 'conflict' }, 0);
      this.skipped.inc({ operation }, 0);
      this.durations.zero({ operation });
      this.child(operation);
    }
    new Counter({
      name: 'movr_workload_retries_total',
      help: 'Transaction attempts run again after a serialization conflict (SQLSTATE 40001), by transaction; runs against the database only.',
      labelNames: ['transaction'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [transaction, n] of Object.entries(retries()?.byTransaction ?? {})) this.inc({ transaction }, n);
      },
    });
  }

  private child(operation: Operation): Children {
    let child = this.children.get(operation);
    if (!child) {
      child = {
        ok: this.operations.labels({ operation, outcome: 'ok' }),
        conflict: this.operations.labels({ operation, outcome: 'conflict' }),
        duration: this.durations.labels({ operation }),
      };
      this.children.set(operation, child);
    }
    return child;
  }

  ok(operation: Operation, micros: number): void {
    const child = this.child(operation);
    child.ok.inc();
    child.duration.observe(micros / 1e6);
  }

  conflict(operation: Operation, _code: string, micros: number): void {
    const child = this.child(operation);
    child.conflict.inc();
    child.duration.observe(micros / 1e6);
  }

  error(operation: Operation, kind: string): void {
    this.errors.inc({ operation, kind });
  }

  skip(operation: Operation): void {
    this.skipped.inc({ operation });
  }

  /** Serves the metrics at http://host:port/metrics until closed. */
  serve(host: string, port: number): Promise<MetricsServer> {
    return serveMetrics(host, port, () => this.registry.metrics());
  }
}
