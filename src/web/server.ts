// Runs the web application: listens, and shuts down gracefully on SIGTERM or SIGINT.
//
// On the first signal the server stops accepting connections, lets in-flight requests finish
// (fastify.close()), closes the database and exits 0. A second signal, or shutdown taking longer
// than SHUTDOWN_TIMEOUT_MS, exits 1 at once.
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.ts';
import type { Database } from '../db/connect.ts';
import { buildApp } from './app.ts';
import { resolveSecretKey } from './secret-key.ts';

export const SHUTDOWN_TIMEOUT_MS = 10_000;
const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

export interface RunningServer {
  app: FastifyInstance;
  /** Where the server listens, e.g. http://127.0.0.1:8080 (the real port when PORT=0). */
  url: string;
  /**
   * Stops the server the way a signal does, without exiting: no new connections, in-flight
   * requests finish, then the database is closed. Idempotent.
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
}

export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { config, db } = options;
  let app: FastifyInstance | undefined;
  try {
    app = await buildApp({
      config,
      db,
      secretKey: resolveSecretKey(config),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
    await options.beforeListen?.(app);
    await app.listen({ host: config.host, port: config.port, listenTextResolver: (address) => `socket bound to ${address}` });
  } catch (error) {
    // Could not start (e.g. the port is taken): release everything, the database included.
    await app?.close().catch(() => {});
    await db.close().catch(() => {});
    throw error;
  }
  return running(app, config, db);
}

function running(app: FastifyInstance, config: Config, db: Database): RunningServer {
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  app.log.info({ url, database: db.displayUrl, region: config.region ?? null }, `MovR listening on ${url}`);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      for (const signal of SIGNALS) process.off(signal, onSignal);
      try {
        await app.close();
      } finally {
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
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    const timer = setTimeout(() => {
      app.log.error(`shutdown took longer than ${SHUTDOWN_TIMEOUT_MS / 1000} s: exiting now`);
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    // close() removes this handler; keep one that forces the exit on a second signal.
    const force = (second: NodeJS.Signals) => onSignal(second);
    for (const s of SIGNALS) process.on(s, force);
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

  for (const signal of SIGNALS) process.on(signal, onSignal);
  return { app, url, close };
}
