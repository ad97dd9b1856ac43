// Serving on every core: `movr serve` on a server database runs MOVR_WORKERS worker processes
// (node:cluster) that share the port, each with its share of DATABASE_POOL_SIZE connections.
// The primary process only starts, watches and stops them:
//
//   - it forks the workers, each with MOVR_WORKER_HEAP_MIB as its heap limit, and reports the
//     URL once every worker listens;
//   - a worker that dies is logged and replaced (a second later, so a crash loop cannot spin);
//   - SIGTERM or SIGINT is passed on to every worker, which shuts down gracefully (server.ts);
//     the primary exits 0 once all have, 1 if one did not exit cleanly; a second signal kills
//     them and exits 1.
//
// The embedded database is one connection in one process: it always runs in a single process.
import cluster, { type Worker } from 'node:cluster';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { AggregatorRegistry } from 'prom-client';
import type { Config } from '../config.ts';
import { metricsPortError, serveMetrics } from './metrics-server.ts';

/** What a worker tells the primary: it listens; or it wants every worker's metrics (a scrape on the main port). */
type WorkerMessage = { type: 'listening'; url: string } | { type: 'movr:metrics'; id: string };

/** The primary's answer to a metrics request. */
type PrimaryMessage = { type: 'movr:metrics'; id: string; text?: string; error?: string };

/** A worker waits this long for the primary's metrics (prom-client's own limit is 5 s). */
const CLUSTER_METRICS_TIMEOUT_MS = 6000;

/** Set by the primary for each worker: which one it is (1-based). */
export const WORKER_ID_VARIABLE = 'MOVR_WORKER_ID';

/** This process is one of several workers (not the primary, not a single process). */
export function isClusterWorker(): boolean {
  return cluster.isWorker;
}

/** The worker's number, 1 for a single process. Housekeeping runs in worker 1 only. */
export function workerId(): number {
  return Number(process.env[WORKER_ID_VARIABLE] ?? 1) || 1;
}

/** Connections each of `workers` processes opens: the pool divided, at least 2 each. */
export function poolPerWorker(poolSize: number, workers: number): number {
  return Math.max(2, Math.ceil(poolSize / workers));
}

/**
 * V8's heap limits for a worker: the old generation at `heapMiB`, the young generation's
 * semi-spaces at a sixteenth of it (8 MiB for 128; V8's default is 16), which keeps a busy
 * worker's RSS near 140 MiB for about 5% of its throughput (docs/benchmarks.md).
 */
export function workerHeapFlags(heapMiB: number): string[] {
  return [`--max-old-space-size=${heapMiB}`, `--max-semi-space-size=${Math.max(1, Math.min(16, Math.floor(heapMiB / 16)))}`];
}

/** In a worker: tells the primary the server listens. */
export function reportListening(url: string): void {
  process.send?.({ type: 'listening', url } satisfies WorkerMessage);
}

/** In a worker: every worker's metrics, added up by the primary (see metrics.ts). */
export function requestClusterMetrics(): Promise<string> {
  const id = randomUUID();
  return new Promise((resolve, reject) => {
    const onMessage = (message: PrimaryMessage) => {
      if (message?.type !== 'movr:metrics' || message.id !== id) return;
      clearTimeout(timer);
      process.off('message', onMessage);
      if (message.text !== undefined) resolve(message.text);
      else reject(new Error(message.error ?? 'the primary sent no metrics'));
    };
    const timer = setTimeout(() => {
      process.off('message', onMessage);
      reject(new Error('the primary did not send the metrics in time'));
    }, CLUSTER_METRICS_TIMEOUT_MS);
    process.on('message', onMessage);
    process.send?.({ type: 'movr:metrics', id } satisfies WorkerMessage);
  });
}

/**
 * In the primary: runs `count` workers until a signal, and resolves with the URL they listen on
 * once all do. The process exits when the workers have shut down.
 */
export function runPrimary(config: Config, count: number, log = pino({ level: config.logLevel, base: { role: 'primary' } })): Promise<string> {
  const aggregator = new AggregatorRegistry();
  let stopping = false;
  let url: string | undefined;
  const listening = new Set<number>();
  const ids = new Map<Worker, number>();

  let exitStatus = 0;

  if (config.workerHeapMiB > 0) {
    // A flag given on the command line (node --max-old-space-size=…) comes later and wins.
    cluster.setupPrimary({ execArgv: [...workerHeapFlags(config.workerHeapMiB), ...process.execArgv] });
  }

  return new Promise((resolve, reject) => {
    const fork = (id: number) => {
      const worker = cluster.fork({ [WORKER_ID_VARIABLE]: String(id) });
      ids.set(worker, id);
      worker.on('message', (message: WorkerMessage) => {
        if (message?.type === 'movr:metrics') {
          const answer = (reply: Omit<PrimaryMessage, 'type' | 'id'>) => {
            if (worker.isConnected()) worker.send({ type: 'movr:metrics', id: message.id, ...reply } satisfies PrimaryMessage);
          };
          aggregator.clusterMetrics().then(
            (text) => answer({ text }),
            (error: unknown) => answer({ error: (error as Error).message }),
          );
          return;
        }
        if (message?.type !== 'listening') return;
        listening.add(id);
        url ??= message.url;
        if (listening.size === count) resolve(url);
      });
    };

    cluster.on('exit', (worker, code, signal) => {
      const id = ids.get(worker) ?? 0;
      ids.delete(worker);
      if (stopping) {
        // A worker still starting dies of the SIGTERM itself (signal set, no code): that is fine.
        if (code !== 0 && code !== null) exitStatus = 1;
        if (ids.size === 0) process.exit(exitStatus);
        return;
      }
      if (url === undefined) {
        // A worker that dies before the server ever listened: starting is broken (port in use, …).
        reject(new Error(`worker ${id} exited (${signal ?? code}) before the server listened`));
        for (const other of ids.keys()) other.kill('SIGKILL');
        return;
      }
      log.error({ worker: id, code, signal }, 'a worker died: starting another');
      listening.delete(id);
      setTimeout(() => {
        if (!stopping) fork(id);
      }, 1000).unref();
    });

    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, 'second signal during shutdown: stopping the workers now');
        for (const worker of ids.keys()) worker.process.kill('SIGKILL');
        process.exit(1);
      }
      stopping = true;
      log.info({ signal, workers: ids.size }, 'shutting down: the workers finish their requests');
      if (ids.size === 0) process.exit(0);
      for (const worker of ids.keys()) worker.process.kill('SIGTERM');
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);

    // The metrics port first: if it cannot be had, nothing starts (as for the main port).
    const { port: metricsPort, host: metricsHost } = config.metrics;
    const metrics = metricsPort === undefined ? Promise.resolve() : serveMetrics(metricsHost, metricsPort, () => aggregator.clusterMetrics());
    metrics.then(
      () => {
        for (let id = 1; id <= count; id++) fork(id);
      },
      (error: unknown) => reject(metricsPortError(error, metricsHost, metricsPort ?? 0)),
    );
  });
}
