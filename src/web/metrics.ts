// Prometheus metrics (prom-client): what an operator watches (docs/operations.md).
//
//   movr_http_request_duration_seconds{method,route,status_class}   histogram, per route pattern
//   movr_transaction_{commits,retries,reconnects,failures,ambiguous_commits}_total{transaction}
//   movr_db_pool_{connections,idle_connections,waiting_requests}     gauges (PostgreSQL/CockroachDB)
//   movr_db_connection_errors_total, movr_db_up{database}
//   movr_rides_{started,ended}_total{city}, movr_ride_revenue_cents_total{city}
//   process_* and nodejs_*                                           prom-client's default metrics
//
// Counts that MovR already keeps (db.transactionStats, app.rideStats, the pool's figures) are
// read when Prometheus scrapes, never counted a second time; only request durations are
// recorded as they happen. With several workers (cluster.ts), the primary asks every worker
// for its figures and adds them up (prom-client's AggregatorRegistry), so one scrape sees all.
//
// Access: with MOVR_METRICS_TOKEN, /metrics on the main port answers requests bearing
// `Authorization: Bearer <token>` (compared in constant time) and refuses others with 401 or
// 403; with MOVR_METRICS_PORT it is also served on that port, on MOVR_METRICS_HOST (loopback by
// default), without a token; with neither there are no metrics and /metrics is a 404.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { metricsEnabled } from '../config.ts';
import type { Database } from '../db/connect.ts';
import type { RideStats } from '../movr/ride-stats.ts';
import { isClusterWorker, requestClusterMetrics } from './cluster.ts';
import { withTimeout } from './health.ts';
import { METRICS_CONTENT_TYPE } from './metrics-server.ts';

/** Seconds, for request durations: from a millisecond (a cached read) to ten seconds. */
export const REQUEST_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A scrape waits this long for the database's `SELECT 1` before it reports it down. */
export const DB_PING_TIMEOUT_MS = 1000;

export interface MetricsSources {
  db: Database;
  rideStats: RideStats;
}

/** A counter whose values are read from counts kept elsewhere, when it is scraped. */
function countsCounter(
  registry: Registry,
  name: string,
  help: string,
  labelName: string,
  read: () => Iterable<readonly [string, number]>,
): void {
  new Counter({
    name,
    help,
    labelNames: [labelName],
    registers: [registry],
    collect() {
      this.reset();
      for (const [label, value] of read()) this.inc({ [labelName]: label }, value);
    },
  });
}

/** A registry with every MovR metric and the process's own; request durations are recorded by metricsPlugin. */
export function createMetricsRegistry({ db, rideStats }: MetricsSources): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const transactions = () => Object.entries(db.transactionStats.snapshot());
  const txCounter = (what: 'commits' | 'retries' | 'reconnects' | 'failures' | 'ambiguous', name: string, help: string) =>
    countsCounter(registry, name, help, 'transaction', () => transactions().map(([tx, counts]) => [tx, counts[what]] as const));
  txCounter('commits', 'movr_transaction_commits_total', 'Transactions committed, by transaction name.');
  txCounter(
    'retries',
    'movr_transaction_retries_total',
    'Attempts that hit a serialization conflict (SQLSTATE 40001) and were run again, by transaction name.',
  );
  txCounter('reconnects', 'movr_transaction_reconnects_total', 'Attempts run again on another connection because theirs broke before COMMIT.');
  txCounter('failures', 'movr_transaction_failures_total', 'Transactions that ended in an error (retries exhausted included), by transaction name.');
  txCounter('ambiguous', 'movr_transaction_ambiguous_commits_total', 'Commits whose outcome is unknown (SQLSTATE 40003 or a connection lost while committing).');

  // The embedded database is one connection: no pool, no pool figures.
  if (db.poolStats() !== undefined) registerPoolMetrics(registry, db);
  new Gauge({
    name: 'movr_db_up',
    help: `1 if the database answered SELECT 1 within ${DB_PING_TIMEOUT_MS} ms at the scrape, else 0 (the lowest of all workers).`,
    labelNames: ['database'],
    aggregator: 'min',
    registers: [registry],
    async collect() {
      const up = await withTimeout(db.execute('SELECT 1'), DB_PING_TIMEOUT_MS).then(
        () => 1,
        () => 0,
      );
      this.set({ database: db.kind }, up);
    },
  });

  const cities = () => Object.entries(rideStats.snapshot());
  countsCounter(registry, 'movr_rides_started_total', 'Rides started (committed), by city.', 'city', () => cities().map(([c, n]) => [c, n.started] as const));
  countsCounter(registry, 'movr_rides_ended_total', 'Rides ended (committed), by city.', 'city', () => cities().map(([c, n]) => [c, n.ended] as const));
  countsCounter(
    registry,
    'movr_ride_revenue_cents_total',
    'Fares charged for rides ended, after discounts, in cents, by city.',
    'city',
    () => cities().map(([c, n]) => [c, n.revenueCents] as const),
  );
  return registry;
}

/** The pool's connections (total, idle), the requests waiting for one, and connection errors. */
function registerPoolMetrics(registry: Registry, db: Database): void {
  const pool = (read: (stats: NonNullable<ReturnType<Database['poolStats']>>) => number) =>
    function (this: Gauge) {
      const stats = db.poolStats();
      if (stats) this.set(read(stats));
    };
  new Gauge({ name: 'movr_db_pool_connections', help: 'Connections the pool holds, busy or idle.', registers: [registry], collect: pool((s) => s.total) });
  new Gauge({ name: 'movr_db_pool_idle_connections', help: 'Connections of the pool idle right now.', registers: [registry], collect: pool((s) => s.idle) });
  new Gauge({
    name: 'movr_db_pool_waiting_requests',
    help: 'Queries and transactions waiting for a connection of the pool: above 0 for long, the pool is too small or the database too slow.',
    registers: [registry],
    collect: pool((s) => s.waiting),
  });
  new Counter({
    name: 'movr_db_connection_errors_total',
    help: 'Database connections that failed while open (errors and unexpected ends).',
    registers: [registry],
    collect() {
      const stats = db.poolStats();
      this.reset();
      if (stats) this.inc(stats.connectionErrors);
    },
  });
}

const statusClass = (status: number) => `${Math.floor(status / 100)}xx`;

/** Records each request's duration by method, route pattern and status class. */
function recordRequestDurations(app: FastifyInstance, registry: Registry): void {
  const histogram = new Histogram({
    name: 'movr_http_request_duration_seconds',
    help: 'Time to answer HTTP requests, by method, route pattern (unmatched for no route) and status class.',
    labelNames: ['method', 'route', 'status_class'],
    buckets: REQUEST_DURATION_BUCKETS,
    registers: [registry],
  });
  // One child per (method, route, status): the labels are hashed once, not on every request.
  const children = new Map<string, ReturnType<typeof histogram.labels>>();
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    const key = `${request.method} ${status} ${route}`;
    let child = children.get(key);
    if (!child) {
      child = histogram.labels({ method: request.method, route, status_class: statusClass(status) });
      children.set(key, child);
    }
    child.observe(reply.elapsedTime / 1000);
    done();
  });
}

/** Is this the token? In constant time (both sides hashed to the same length first). */
export function tokenMatches(given: string, token: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(token));
}

/** /metrics on the main port refused: no token (401) or a wrong one (403). Answered by errors.ts. */
export class MetricsAccessError extends Error {
  constructor(readonly code: 'metrics_token_required' | 'metrics_token_invalid') {
    super(code === 'metrics_token_required' ? 'No metrics token' : 'Wrong metrics token');
    this.name = 'MetricsAccessError';
  }
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

declare module 'fastify' {
  interface FastifyInstance {
    /** This process's metrics; undefined when metrics are off. */
    readonly metrics: Registry | undefined;
  }
}

/** This process's metrics, or in a cluster worker every worker's, added up by the primary. */
export function metricsText(registry: Registry): Promise<string> {
  return isClusterWorker() ? requestClusterMetrics() : registry.metrics();
}

/** Metrics, when configured: the registry (app.metrics) and the request durations recorded into it. */
export const metricsPlugin = fp(
  async (app) => {
    if (!metricsEnabled(app.config)) {
      app.decorate('metrics', undefined);
      return;
    }
    const registry = createMetricsRegistry({ db: app.db, rideStats: app.rideStats });
    if (isClusterWorker()) {
      // The primary collects this worker's figures over IPC (AggregatorRegistry's listener).
      AggregatorRegistry.setRegistries([registry]);
      new AggregatorRegistry();
    }
    app.decorate('metrics', registry);
    recordRequestDurations(app, registry);
  },
  { name: 'movr-metrics', fastify: '5.x', dependencies: ['movr-context'] },
);

/**
 * GET /metrics on the main port, with MOVR_METRICS_TOKEN (registered after the error handler,
 * which answers the refusals).
 */
export const metricsRoutes = fp(
  async (app) => {
    const registry = app.metrics;
    const token = app.config.metrics.token;
    // Off, or served on the metrics port only (server.ts, cluster.ts): /metrics is a 404.
    if (registry === undefined || token === undefined) return;
    app.get('/metrics', { logLevel: 'warn', schema: { hide: true } }, async (request, reply) => {
      const header = request.headers.authorization;
      const given = header === undefined ? undefined : BEARER.exec(header)?.[1];
      if (given === undefined) throw new MetricsAccessError('metrics_token_required');
      if (!tokenMatches(given, token)) throw new MetricsAccessError('metrics_token_invalid');
      reply.header('cache-control', 'no-store');
      return reply.type(METRICS_CONTENT_TYPE).send(await metricsText(registry));
    });
  },
  { name: 'movr-metrics-routes', fastify: '5.x', dependencies: ['movr-metrics', 'movr-errors'] },
);
