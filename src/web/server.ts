// Runs the web application: listens, keeps house, and shuts down gracefully on SIGTERM or SIGINT.
//
// On the first signal the server stops accepting connections and closes idle keep-alive
// connections; a request that still arrives on a kept-alive connection gets 503 shutting_down
// with Connection: close; requests in flight get MOVR_SHUTDOWN_GRACE_MS to finish. Any still
// running then are logged and cut, the database is closed, and the process exits 0. A second
// signal exits 1 at once. See docs/reliability.md.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import type { Database } from '../db/connect.ts';
import { purgeExpired } from '../movr/housekeeping.ts';
import { buildApp } from './app.ts';
import { isClusterWorker, workerId } from './cluster.ts';
import { type MetricsServer, metricsPortError, serveMetrics } from './metrics-server.ts';
import { resolveSecretKey } from './secret-key.ts';

const ALL_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

export interface RunningServer {
  app: FastifyInstance;
  /** Where the server listens, e.g. http://127.0.0.1:8080 (the real port when PORT=0). */
  url: string;
  /** Where MOVR_METRICS_PORT serves the metrics, e.g. http://127.0.0.1:9464/metrics; undefined without it. */
  metricsUrl: string | undefined;
  /**
   * Stops the server the way a signal does, without exiting: no new connections, in-flight
   * requests finish (or are cut after the grace period), then the database is closed. Idempotent.
   */
  close(): Promise<void>;
}

export interface StartServerOptions {
  config: Config;
  /** The server owns it from now on: it is closed when the server shuts down or fails to start. */
  db: Database;
  /** Called after the app is built, before it listens (tests add routes here). */
  beforeListen?: (app: FastifyInstance) => void | Promise<void>;
  /** Fastify's logger option (see buildApp); by default from config. */
  logger?: boolean | object;
  /**
   * The signals that shut the server down and exit: SIGTERM and SIGINT by default; a cluster
   * worker takes SIGTERM only (from its primary); none in tests that close the server themselves.
   */
  signals?: readonly NodeJS.Signals[];
  /** Runs housekeeping (default true; one worker of a cluster does). */
  housekeeping?: boolean;
}

export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { config, db } = options;
  let app: FastifyInstance | undefined;
  let metrics: MetricsServer | undefined;
  try {
    app = await buildApp({
      config,
      db,
      secretKey: resolveSecretKey(config),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
    const inFlight = trackRequests(app);
    await options.beforeListen?.(app);
    await listenQuietly(app, config);
    metrics = await metricsPort(app, config);
    return running(app, config, db, inFlight, options.signals ?? ALL_SIGNALS, options.housekeeping ?? true, metrics);
  } catch (error) {
    // Could not start (e.g. the port is taken): release everything, the database included.
    await metrics?.close().catch(() => {});
    await app?.close().catch(() => {});
    await db.close().catch(() => {});
    throw error;
  }
}

/**
 * Listens without Fastify's own "listening on" line at info: the URL is said once, by the
 * start-up banner (cli/serve.ts), or by each worker's "listening" line in a cluster.
 */
async function listenQuietly(app: FastifyInstance, config: Config): Promise<void> {
  const level = app.log.level;
  if (level === 'info') app.log.level = 'warn';
  try {
    await app.listen({ host: config.host, port: config.port });
  } finally {
    app.log.level = level;
  }
}

/**
 * MOVR_METRICS_PORT in a single process: its own metrics there. A cluster's primary serves
 * every worker's instead (cluster.ts).
 */
async function metricsPort(app: FastifyInstance, config: Config): Promise<MetricsServer | undefined> {
  const { port, host } = config.metrics;
  const registry = app.metrics;
  if (port === undefined || registry === undefined || isClusterWorker()) return undefined;
  try {
    return await serveMetrics(host, port, () => registry.metrics());
  } catch (error) {
    throw metricsPortError(error, host, port);
  }
}

/** The requests being served right now, to log those a shutdown cuts. */
function trackRequests(app: FastifyInstance): Set<FastifyRequest> {
  const inFlight = new Set<FastifyRequest>();
  app.addHook('onRequest', async (request) => {
    inFlight.add(request);
  });
  app.addHook('onResponse', async (request) => {
    inFlight.delete(request);
  });
  app.addHook('onRequestAbort', async (request) => {
    inFlight.delete(request);
  });
  return inFlight;
}

/** Purges expired rows every interval, one run at a time; a failed run is logged and retried next time. */
function startHousekeeping(app: FastifyInstance, db: Database, intervalMs: number): () => Promise<void> {
  if (intervalMs <= 0) return async () => {};
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    running ??= purgeExpired(db)
      .then((purged) => {
        if (purged.idempotencyKeys + purged.apiTokens > 0) app.log.info({ purged }, 'purged expired idempotency keys and tokens');
      })
      .catch((error: unknown) => app.log.warn({ err: error }, 'housekeeping failed; it runs again later'))
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}

function running(
  app: FastifyInstance,
  config: Config,
  db: Database,
  inFlight: Set<FastifyRequest>,
  signals: readonly NodeJS.Signals[],
  housekeeping: boolean,
  metrics: MetricsServer | undefined,
): RunningServer {
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  const where = { url, database: db.displayUrl, region: config.region ?? null, ...(metrics ? { metrics: metrics.url } : {}) };
  // A single process's banner is printed by `movr serve`; in a cluster each worker says it listens.
  if (isClusterWorker()) app.log.info({ ...where, worker: workerId() }, `worker ${workerId()} listening on ${url}`);
  else app.log.debug(where, `MovR listening on ${url}`);
  const stopHousekeeping = startHousekeeping(app, db, housekeeping ? config.housekeepingIntervalMs : 0);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      for (const signal of signals) process.off(signal, onSignal);
      app.lifecycle.shuttingDown = true;
      const grace = setTimeout(() => {
        for (const request of inFlight) {
          app.log.warn({ reqId: request.id, method: request.method, url: request.url }, 'request cut: the shutdown grace period ended');
        }
        app.server.closeAllConnections();
      }, config.shutdownGraceMs);
      grace.unref();
      try {
        await stopHousekeeping();
        await metrics?.close();
        await app.close();
      } finally {
        clearTimeout(grace);
        await db.close();
      }
    })();
    return closing;
  };

  function onSignal(signal: NodeJS.Signals): void {
    if (closing) {
      app.log.warn({ signal }, 'second signal during shutdown: exiting now');
      process.exit(1);
    }
    app.log.info({ signal, inFlight: inFlight.size }, 'shutting down: finishing in-flight requests');
    // close() removes this handler; keep one that forces the exit on a second signal.
    const force = (second: NodeJS.Signals) => onSignal(second);
    for (const s of signals) process.on(s, force);
    close().then(
      () => {
        app.log.info('shut down cleanly');
        process.exit(0);
      },
      (error: unknown) => {
        app.log.error({ err: error }, 'error while shutting down');
        process.exit(1);
      },
    );
  }

  for (const signal of signals) process.on(signal, onSignal);
  return { app, url, metricsUrl: metrics?.url, close };
}
