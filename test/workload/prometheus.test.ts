// `movr workload run --prometheus-port`: per-operation counters and latency histograms, live,
// and adding up to the run's own summary at the end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATIONS } from '../../src/workload/mix.ts';
import { parsePrometheusText, sumOf } from '../../src/prometheus-text.ts';
import { WorkloadMetrics } from '../../src/workload/prometheus.ts';
import type { RetryCounts } from '../../src/workload/stats.ts';
import { runMovr, scratchDir } from '../support/cli.ts';
import { createTestDatabase, describeEachDatabase } from '../support/databases.ts';
import { freePort } from '../../scripts/bench/movr-metrics.ts';
import { loadRunData, recordedRun } from './support.ts';

async function scrape(url: string) {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return parsePrometheusText(await response.text());
}

describe('WorkloadMetrics', () => {
  it('has every operation’s series from the start, at 0, and counts outcomes', async () => {
    const metrics = new WorkloadMetrics(OPERATIONS, () => ({ total: 2, byTransaction: { start_ride: 2 } }));
    metrics.ok('start_ride', 1500);
    metrics.conflict('start_ride', 'vehicle_unavailable', 2500);
    metrics.error('end_ride', 'database_unavailable');
    metrics.skip('end_ride');
    const samples = parsePrometheusText(await metrics.registry.metrics());
    for (const operation of OPERATIONS) {
      expect(samples.some((s) => s.name === 'movr_workload_operations_total' && s.labels.operation === operation), operation).toBe(true);
    }
    expect(sumOf(samples, 'movr_workload_operations_total', { operation: 'start_ride', outcome: 'ok' })).toBe(1);
    expect(sumOf(samples, 'movr_workload_operations_total', { operation: 'start_ride', outcome: 'conflict' })).toBe(1);
    expect(sumOf(samples, 'movr_workload_operation_duration_seconds_count', { operation: 'start_ride' })).toBe(2);
    expect(sumOf(samples, 'movr_workload_operation_duration_seconds_bucket', { operation: 'start_ride', le: '0.002' })).toBe(1);
    expect(sumOf(samples, 'movr_workload_errors_total', { operation: 'end_ride', kind: 'database_unavailable' })).toBe(1);
    expect(sumOf(samples, 'movr_workload_skipped_total', { operation: 'end_ride' })).toBe(1);
    expect(sumOf(samples, 'movr_workload_retries_total', { transaction: 'start_ride' })).toBe(2);
    expect(samples.some((s) => s.name === 'process_cpu_user_seconds_total')).toBe(true);
  });
});

describeEachDatabase('a run with live metrics', (t) => {
  beforeAll(async () => {
    await loadRunData(t.db);
  });

  it('serves them while it runs, and they add up to the run’s summary', async () => {
    const port = await freePort();
    // The run's retries, known at its end (the CLI passes the target's live count).
    let retries: RetryCounts | null = null;
    const metrics = new WorkloadMetrics(OPERATIONS, () => retries);
    const server = await metrics.serve('127.0.0.1', port);
    try {
      let during: ReturnType<typeof parsePrometheusText> | undefined;
      const { result } = await recordedRun(t.db, {
        observer: metrics,
        onInterval: () => {
          if (!during) void scrape(server.url).then((samples) => (during = samples));
        },
      });
      retries = result.summary.retries;
      expect(during, 'a scrape during the run').toBeDefined();
      const after = await scrape(server.url);
      for (const op of result.summary.operations) {
        const answered = sumOf(after, 'movr_workload_operations_total', { operation: op.operation });
        expect(answered, op.operation).toBe(op.count);
        expect(sumOf(after, 'movr_workload_operations_total', { operation: op.operation, outcome: 'conflict' }), op.operation).toBe(op.conflicts);
        expect(sumOf(after, 'movr_workload_operation_duration_seconds_count', { operation: op.operation }), op.operation).toBe(op.count);
        expect(sumOf(after, 'movr_workload_errors_total', { operation: op.operation })).toBe(op.errors);
        expect(sumOf(after, 'movr_workload_skipped_total', { operation: op.operation })).toBe(op.skipped);
      }
      expect(result.summary.total.count).toBeGreaterThan(0);
      expect(sumOf(after, 'movr_workload_retries_total')).toBe(result.summary.retries?.total ?? 0);
    } finally {
      await server.close();
    }
  });
});

describe('movr workload run --prometheus-port', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    database = await createTestDatabase('pglite');
    await loadRunData(database.db);
    await database.db.close(); // the command opens the folder itself
  });
  afterAll(async () => {
    await database?.destroy();
  });

  it('serves the metrics on the port while the run lasts', { timeout: 90_000 }, async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/metrics`;
    const running = runMovr(['workload', 'run', '--db', database.url, '--duration', '6s', '--concurrency', '2', '--no-check', '--prometheus-port', String(port)], {
      cwd: scratchDir(),
    });
    let samples: ReturnType<typeof parsePrometheusText> | undefined;
    for (let i = 0; i < 300 && !samples; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const response = await fetch(url).catch(() => undefined);
      if (response?.ok) {
        const parsed = parsePrometheusText(await response.text());
        if (sumOf(parsed, 'movr_workload_operations_total') > 0) samples = parsed;
      }
    }
    const result = await running;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`metrics at ${url}`);
    expect(samples, 'operations counted while running').toBeDefined();
    expect(sumOf(samples!, 'movr_workload_operations_total', { operation: 'read_vehicles', outcome: 'ok' })).toBeGreaterThan(0);
    // The port is closed with the run.
    await expect(fetch(url)).rejects.toThrow();
  });

  it('refuses a bad port', async () => {
    const result = await runMovr(['workload', 'run', '--db', 'pglite:memory', '--prometheus-port', '99999']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--prometheus-port must be a port number from 0 to 65535, got "99999"');
  });
});
