// `movr workload run`: a mix of MovR reads and writes against the database or a server's JSON
// API, a report once a second and a summary at the end, then the invariant check. Ctrl-C stops
// it with the same summary.
import { Command } from 'commander';
import type { Config } from '../config.ts';
import type { Database } from '../db/connect.ts';
import type { RegionMap } from '../region-map.ts';
import { DirectTarget } from '../workload/direct-target.ts';
import { WorkloadMetrics } from '../workload/prometheus.ts';
import type { MetricsServer } from '../web/metrics-server.ts';
import { HttpTarget } from '../workload/http-target.ts';
import { DEFAULT_MIX, DEFAULT_WRITE_WEIGHTS, OPERATIONS, WRITE_OPERATIONS, parseCities, parseWeights, validateMix } from '../workload/mix.ts';
import { JsonReport, intervalPrinter } from '../workload/report.ts';
import { DEFAULT_RUN_OPTIONS, type RunOptions, type RunResult, runWorkload } from '../workload/run.ts';
import { formatSummary } from '../workload/stats.ts';
import type { WorkloadTarget } from '../workload/target.ts';
import {
  type CliContext,
  UsageError,
  assertMigrated,
  dbOption,
  decimalOption,
  durationOption,
  portOption,
  usageOnMixError,
  wholeNumberOption,
} from './common.ts';
import { reportInvariants } from './workload-check.ts';

interface RunFlags {
  db?: string;
  target?: string;
  duration: number;
  concurrency: number;
  maxRate: number;
  ramp: number;
  seed: number;
  readPercent: number;
  weights?: string;
  cities?: string;
  ridersPerWorker: number;
  json?: string;
  prometheusPort?: number;
  prometheusHost: string;
  /** false with --no-check. */
  check: boolean;
}

export function workloadRunCommand(context: CliContext): Command {
  const d = DEFAULT_RUN_OPTIONS;
  const weights = WRITE_OPERATIONS.map((op) => `${op}=${DEFAULT_WRITE_WEIGHTS[op]}`).join(',');
  return new Command('run')
    .summary('Run a mix of MovR reads and writes and report throughput and latency')
    .description('Run a mix of MovR reads and writes and report throughput and latency (see docs/workload.md)')
    .addOption(dbOption('Database to run against directly (default: DATABASE_URL)'))
    .option('--target <url>', "Drive a running MovR server's JSON API instead, e.g. http://127.0.0.1:8080")
    .addOption(durationOption('--duration <d>', 'How long: 30s, 5m, 1h; 0 runs until Ctrl-C', d.durationMs))
    .addOption(wholeNumberOption('--concurrency <n>', 'Workers; the pool gets at least as many connections', d.concurrency, 1))
    .addOption(decimalOption('--max-rate <ops/s>', 'Cap on operations per second of all workers; 0 = no cap', d.maxRate))
    .addOption(durationOption('--ramp <d>', 'Start the workers spread over this time', d.rampMs))
    .addOption(wholeNumberOption('--seed <n>', 'Random seed', d.seed))
    .addOption(decimalOption('--read-percent <p>', 'Percent of operations that are reads', DEFAULT_MIX.readPercent))
    .option('--weights <list>', `Write weights, e.g. start_ride=0.5,end_ride=0.2 (defaults: ${weights})`)
    .option('--cities <list>', 'Cities and regions to use, e.g. paris,us-west1 (default: all)')
    .addOption(wholeNumberOption('--riders-per-worker <n>', 'Riders each worker owns', d.ridersPerWorker, 1))
    .option('--json <file>', 'Write the per-second series and the summary as JSON (draw it with movr workload report)')
    .addOption(portOption('--prometheus-port <port>', 'Serve live per-operation metrics at http://<host>:<port>/metrics while running'))
    .option('--prometheus-host <host>', 'Interface for --prometheus-port', '127.0.0.1')
    .option('--no-check', 'Do not check the invariants at the end')
    .action((flags: RunFlags) => workloadRun(context, flags));
}

// ---- options and target ------------------------------------------------------------------------

/** The run's options from the flags; the mix and the cities are checked against the region map. */
function runOptions(flags: RunFlags, regions: RegionMap): RunOptions {
  return usageOnMixError(() => ({
    durationMs: flags.duration,
    concurrency: flags.concurrency,
    maxRate: flags.maxRate,
    rampMs: flags.ramp,
    seed: flags.seed,
    mix: validateMix({
      readPercent: flags.readPercent,
      weights: flags.weights === undefined ? DEFAULT_MIX.weights : parseWeights(flags.weights),
    }),
    cities: parseCities(flags.cities, regions),
    ridersPerWorker: flags.ridersPerWorker,
  }));
}

interface Chosen {
  target: WorkloadTarget;
  /** The database the invariants are checked on; over HTTP only when --db names it. */
  db: Database | undefined;
}

/** --target: the JSON API of a running server; otherwise the database, migrated. */
async function chooseTarget(context: CliContext, flags: RunFlags, options: RunOptions, config: Config): Promise<Chosen> {
  const open = (url: string) =>
    context.open(url, {
      // At least a connection per worker, so workers never queue for the pool.
      poolSize: Math.max(config.poolSize, options.concurrency),
      applicationName: 'movr workload',
    });
  if (flags.target !== undefined) {
    const db = flags.db === undefined ? undefined : await open(flags.db);
    // With the server's database, the workload makes its own account an operator, so that
    // create_promo_code runs through POST /api/v1/operator/promo-codes.
    const http = httpTarget(flags.target, options, config.regionMap, db);
    return { target: http, db };
  }
  const db = await open(flags.db ?? config.databaseUrl);
  // The transactions need MovR's own tables (receipts, credentials) beside the workload's six.
  await assertMigrated(db).catch(async (error: unknown) => {
    await db.close();
    throw error;
  });
  return { target: new DirectTarget(db, { regions: config.regionMap, priceLists: config.priceLists }), db };
}

function httpTarget(url: string, options: RunOptions, regions: RegionMap, db: Database | undefined): HttpTarget {
  try {
    return new HttpTarget(url, { regions, connections: options.concurrency, operatorDb: db });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

// ---- the run -----------------------------------------------------------------------------------

async function workloadRun(context: CliContext, flags: RunFlags): Promise<void> {
  const config = context.config();
  const options = runOptions(flags, config.regionMap);
  const { target, db } = await chooseTarget(context, flags, options, config);
  const stop = stopOnSignal(context);
  let report: JsonReport | undefined;
  let metricsServer: MetricsServer | undefined;
  try {
    report = flags.json === undefined ? undefined : new JsonReport(flags.json);
    const metrics = flags.prometheusPort === undefined ? undefined : new WorkloadMetrics(OPERATIONS, () => target.retries());
    if (metrics) {
      metricsServer = await metrics.serve(flags.prometheusHost, flags.prometheusPort!).catch((error: unknown) => {
        throw new UsageError(`--prometheus-port ${flags.prometheusPort}: ${(error as Error).message}`);
      });
      context.err(`metrics at ${metricsServer.url}\n`);
    }
    announce(context, target, options);
    const printInterval = intervalPrinter(context.out);
    let startedAt: string | undefined;
    const result = await runWorkload(target, {
      ...options,
      signal: stop.signal,
      onStatus: (message) => context.err(`${message}\n`),
      onInterval: (rows) => {
        startedAt ??= new Date(Date.now() - (rows[0]?.elapsedSec ?? 0) * 1000).toISOString();
        printInterval(rows);
        report?.interval(rows);
      },
      ...(metrics ? { observer: metrics } : {}),
    });
    printResult(context, result);
    if (report) {
      report.finish(result.summary, {
        target: target.description,
        startedAt: startedAt ?? null,
        ...options,
        mix: options.mix,
        probabilities: result.probabilities,
        leftOut: result.leftOut,
        stoppedBy: result.stoppedBy,
      });
      context.out(`wrote ${report.path}\n`);
    }
    if (!flags.check) return;
    if (db) await reportInvariants(context, db, '\n');
    else context.out("check: skipped (pass --db with the server's database to check it)\n");
  } finally {
    stop.dispose();
    await metricsServer?.close();
    report?.close();
    await target.close();
    await db?.close();
  }
}

/** SIGINT (Ctrl-C) or SIGTERM stops the run with its summary; a second one quits at once. */
function stopOnSignal(context: CliContext): { signal: AbortSignal; dispose: () => void } {
  const stop = new AbortController();
  const onSignal = () => {
    if (stop.signal.aborted) {
      context.err('movr: stopped\n');
      process.exit(130);
    }
    context.err('\nmovr: stopping (Ctrl-C again to quit at once)\n');
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: stop.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

function announce(context: CliContext, target: WorkloadTarget, options: RunOptions): void {
  context.out(
    `Running against ${target.description}: ${options.concurrency} workers, ` +
      `${options.durationMs > 0 ? `${options.durationMs / 1000} s` : 'until Ctrl-C'}` +
      `${options.maxRate > 0 ? `, at most ${options.maxRate} ops/s` : ''}, cities: ${options.cities.join(', ')}\n`,
  );
  for (const [op, reason] of target.unsupported) context.out(`${op} is left out: ${reason}\n`);
}

function printResult(context: CliContext, result: RunResult): void {
  context.out(`\n${formatSummary(result.summary)}\n`);
  const mix = Object.entries(result.probabilities)
    .filter(([, p]) => p > 0)
    .map(([op, p]) => `${op} ${(p * 100).toFixed(p < 0.01 ? 2 : 1)}%`)
    .join(', ');
  context.out(`mix: ${mix}\n`);
  if (result.abandoned > 0) context.out(`${result.abandoned} operations were still running at the end and are not counted\n`);
  if ((result.summary.total.errorsByKind.rate_limited ?? 0) > 0) {
    context.out(
      'note: the server refused requests with 429, its per-client API rate limit: start it with ' +
        'MOVR_API_RATE_LIMIT=0 to measure the stack rather than the limit\n',
    );
  }
}
