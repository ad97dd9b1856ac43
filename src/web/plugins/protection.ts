// What keeps one process serving when clients misbehave or load outgrows it:
//
//   - the HTTP server's timeouts: the whole request (headers and body) within
//     MOVR_REQUEST_TIMEOUT_MS, the headers within MOVR_HEADERS_TIMEOUT_MS, idle keep-alive
//     connections closed after MOVR_KEEP_ALIVE_TIMEOUT_MS (checked every second, so a
//     slow-body client is cut off on time);
//   - at most MOVR_MAX_CONNECTIONS connections per process and MOVR_MAX_CONNECTIONS_PER_CLIENT
//     per client address, so one client cannot take every file descriptor;
//   - load shedding (@fastify/under-pressure): while the event loop lags more than
//     MOVR_MAX_EVENT_LOOP_DELAY_MS, or the heap is nearly full, requests get 503 overloaded
//     with Retry-After before the process stalls; the health checks still answer;
//   - shutting down: once app.lifecycle.shuttingDown is set, a request that still arrives on a
//     kept-alive connection gets 503 shutting_down with Connection: close.
// See docs/reliability.md.
import http from 'node:http';
import type { Socket } from 'node:net';
import v8 from 'node:v8';
import underPressure from '@fastify/under-pressure';
import type { FastifyServerFactory } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../../config.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Set by the server when it starts shutting down (see server.ts). */
    readonly lifecycle: { shuttingDown: boolean };
  }
}

/** The server is shedding load: 503 overloaded (errors.ts). */
export class OverloadedError extends Error {
  constructor() {
    super('The server is overloaded');
    this.name = 'OverloadedError';
  }
}

/** The server is shutting down: 503 shutting_down (errors.ts). */
export class ShuttingDownError extends Error {
  constructor() {
    super('The server is shutting down');
    this.name = 'ShuttingDownError';
  }
}

/** Seconds a shed request is told to wait. */
export const OVERLOAD_RETRY_AFTER_SECONDS = 2;

/** Always answered, also while shedding load: the health checks and the metrics show the overload. */
const HEALTH_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Fastify's serverFactory: a node:http server with the configured timeouts and connection caps.
 * Node checks requestTimeout and headersTimeout every connectionsCheckingInterval (30 s by
 * default), too late for a 30 s limit: every second here.
 */
export function protectedServerFactory(config: Config): FastifyServerFactory {
  return (handler) => {
    const server = http.createServer(
      {
        requestTimeout: config.requestTimeoutMs,
        headersTimeout: config.headersTimeoutMs,
        keepAliveTimeout: config.keepAliveTimeoutMs,
        connectionsCheckingInterval: 1000,
      },
      handler,
    );
    server.maxConnections = config.maxConnections;
    const perClient = new Map<string, number>();
    server.on('connection', (socket: Socket) => {
      const address = socket.remoteAddress ?? '';
      const count = (perClient.get(address) ?? 0) + 1;
      perClient.set(address, count);
      socket.once('close', () => {
        const left = (perClient.get(address) ?? 1) - 1;
        if (left <= 0) perClient.delete(address);
        else perClient.set(address, left);
      });
      if (count > config.maxConnectionsPerClient) socket.destroy();
    });
    return server;
  };
}

/** Load shedding and the shutting-down answer; the health checks are never shed. */
export const protectionPlugin = fp(
  async (app) => {
    const lifecycle = { shuttingDown: false };
    app.decorate('lifecycle', lifecycle);
    app.addHook('onRequest', async (_request, reply) => {
      if (!lifecycle.shuttingDown) return;
      reply.header('connection', 'close');
      throw new ShuttingDownError();
    });
    const { maxEventLoopDelayMs } = app.config;
    await app.register(underPressure, {
      maxEventLoopDelay: maxEventLoopDelayMs,
      // Most of the heap V8 may grow to: beyond it, garbage collection would stall everything.
      maxHeapUsedBytes: Math.floor(v8.getHeapStatistics().heap_size_limit * 0.9),
      retryAfter: OVERLOAD_RETRY_AFTER_SECONDS,
      pressureHandler: async (request) => {
        if (HEALTH_PATHS.has(request.url.split('?', 1)[0] ?? '')) return;
        throw new OverloadedError();
      },
    });
  },
  { name: 'movr-protection', dependencies: ['movr-context'] },
);
