// Rate limits for the routes that need one (@fastify/rate-limit, registered with global: false:
// no route is limited unless it asks). A route asks with its config:
//
//   app.post('/things', { config: rateLimit({ max: 10, timeWindow: '5 minutes', key: byIpAndField('name') }) }, …)
//
// (Log-in and sign-up have their own limiter, shared across processes: ../login-limiter.ts.)
//
// Over the limit the request is answered 429 by the one error handler (a friendly page, or JSON
// under /api) with a Retry-After header; the handler does not run. Counters are kept in memory,
// per process and per route.
import fastifyRateLimit, { type RateLimitOptions } from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { TooManyRequestsError } from '../errors.ts';

export interface RouteRateLimit {
  /** Requests allowed per key in each window. */
  max: number;
  /** Milliseconds, or a duration such as '5 minutes'. */
  timeWindow: number | string;
  /** What is counted together; by default the client's IP address. */
  key?: (request: FastifyRequest) => string;
}

/**
 * Route config that limits the route. The check runs in preHandler, so a key function can read
 * the parsed body (and the CSRF check has already run).
 */
export function rateLimit(options: RouteRateLimit): { rateLimit: RateLimitOptions } {
  return {
    rateLimit: {
      max: options.max,
      timeWindow: options.timeWindow,
      hook: 'preHandler',
      ...(options.key ? { keyGenerator: options.key } : {}),
    },
  };
}

/**
 * A key of the client's IP address and one form field (lower-cased, trimmed), e.g. the username
 * of a login attempt: each IP gets its own allowance per username.
 */
export function byIpAndField(field: string): (request: FastifyRequest) => string {
  return (request) => {
    const body = request.body;
    const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[field] : undefined;
    const normalized = typeof value === 'string' ? value.trim().toLowerCase().slice(0, 200) : '';
    return `${request.ip}|${field}=${normalized}`;
  };
}

/** Installs the rate limiter; it limits only the routes configured with rateLimit(). */
export const rateLimitPlugin = fp(
  async (app) => {
    await app.register(fastifyRateLimit, {
      global: false,
      errorResponseBuilder: (_request, context) => new TooManyRequestsError(context.ttl, context.statusCode),
    });
  },
  { name: 'movr-rate-limit' },
);
