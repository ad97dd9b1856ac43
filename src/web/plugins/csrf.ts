// Cross-site request forgery protection for the HTML site (@fastify/csrf-protection).
//
// The secret lives in the session; every rendered page gets a token (`it.csrfToken`, see
// page.ts) that forms send back in the hidden field `_csrf` (or scripts in the `x-csrf-token`
// header). Every route registered after registerCsrf() whose method changes something (anything
// but GET, HEAD and OPTIONS) checks it before its own handlers run, unless it is exempt: the JSON
// API under /api/, and a route that opts out with `config: { csrf: false }`. A missing or wrong
// token is a 403 (code csrf_invalid), and the handler never runs.
//
// Why the API needs no token: bearer tokens are never sent by a browser on its own; and the
// session cookie, which the API also accepts, is SameSite=Lax (not sent with cross-site POST,
// PATCH, DELETE or fetches); and the API refuses (415) any request but GET, HEAD and OPTIONS
// that has a Content-Type other than application/json: a type an HTML form cannot send, and a
// cross-site script can send only after a CORS preflight MovR never approves. See
// docs/decisions/0006-csrf-and-the-api.md.
import fastifyCsrfProtection from '@fastify/csrf-protection';
import type { FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { CSRF_SESSION_KEY } from './sessions.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false: this route does not check the CSRF token (it must not rely on the session cookie). */
    csrf?: boolean;
  }
}

/** The form field that carries the token. */
export const CSRF_FIELD = '_csrf';
/** The header that carries the token for scripts. */
export const CSRF_HEADER = 'x-csrf-token';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Requests to this path are not checked for a CSRF token: the JSON API (see the note at the top). */
export function isCsrfExempt(url: string): boolean {
  const path = url.split('?', 1)[0] ?? '';
  return path === '/api' || path.startsWith('/api/');
}

/** Does a route with these methods and URL check the CSRF token? */
export function routeNeedsCsrf(route: Pick<RouteOptions, 'method' | 'url' | 'config'>): boolean {
  if (route.config?.csrf === false) return false;
  if (isCsrfExempt(route.url)) return false;
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  return methods.some((method) => !SAFE_METHODS.has(String(method).toUpperCase()));
}

function tokenOf(request: FastifyRequest): string | undefined {
  const body = request.body;
  if (typeof body === 'object' && body !== null) {
    const field = (body as Record<string, unknown>)[CSRF_FIELD];
    if (typeof field === 'string') return field;
  }
  const header = request.headers[CSRF_HEADER];
  return typeof header === 'string' ? header : undefined;
}

/**
 * Installs CSRF protection. Must come after registerSessions() and before the routes it
 * protects. The check runs in preValidation: the body is parsed by then (so `_csrf` can be read)
 * and a forged request is refused before any schema validation or preHandler (requireUser, rate
 * limits) and before the handler.
 */
export const csrfPlugin = fp(async (app) => {
  await app.register(fastifyCsrfProtection, {
    sessionPlugin: '@fastify/secure-session',
    sessionKey: CSRF_SESSION_KEY,
    getToken: tokenOf,
    logLevel: 'info',
  });

  app.addHook('onRoute', (route) => {
    if (!routeNeedsCsrf(route)) return;
    const existing = route.preValidation;
    const check = app.csrfProtection;
    route.preValidation = existing === undefined ? [check] : [check, ...(Array.isArray(existing) ? existing : [existing])];
  });
}, { name: 'movr-csrf', dependencies: ['movr-sessions'] });
