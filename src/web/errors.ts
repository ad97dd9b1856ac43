// The one place errors become HTTP responses.
//
// Every error, thrown anywhere in a route, maps to a status, a stable code and a message that is
// safe to show. Clients that want JSON (paths under /api, the health checks, or an Accept header
// preferring application/json) get `{ "error": { "code", "message", "fields"? } }`; browsers get
// a friendly HTML page. A 5xx never shows internals (no stack, no SQL): it is logged with the
// error object and answered with a generic message and the request id to quote.
//
// The codes form one closed set, ErrorCode: the domain's (DOMAIN_ERRORS in src/movr/errors.ts)
// and the web layer's own (HTTP_ERRORS below). The API's Error schema lists them all.
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import Negotiator from 'negotiator';
import {
  AmbiguousCommitError,
  DatabaseUnavailableError,
  QUERY_CANCELED,
  TransactionRetriesExhaustedError,
  isConnectionError,
  sqlState,
} from '../db/errors.ts';
import {
  DOMAIN_ERRORS,
  DOMAIN_ERROR_CODES,
  DomainError,
  type DomainErrorCode,
  type DomainErrorKind,
  type FieldError,
  ValidationError,
  errorMessage,
  isDomainError,
} from '../movr/errors.ts';
import { HashingBusyError } from '../movr/passwords.ts';
import { CountersFullError } from './login-limiter.ts';
import { MetricsAccessError } from './metrics.ts';
import { logOut } from './plugins/auth.ts';
import { pageContext } from './plugins/pages.ts';
import { SECURITY_HEADERS } from './plugins/security-headers.ts';
import { OVERLOAD_RETRY_AFTER_SECONDS, OverloadedError, ShuttingDownError } from './plugins/protection.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The error code a refused request was answered with, for its log line (app.ts). */
    problemCode: string | undefined;
  }
}

/** The HTTP status of each kind of DomainError. */
export const STATUS_BY_DOMAIN_KIND: Readonly<Record<DomainErrorKind, number>> = Object.freeze({
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
});

/** A field error as sent to clients; `in` says which part of the request held the field. */
export interface ResponseFieldError extends FieldError {
  readonly in?: 'body' | 'querystring' | 'params' | 'headers';
}

export interface HttpProblem {
  readonly status: number;
  readonly code: ErrorCode;
  /** Safe to show to anyone. */
  readonly message: string;
  readonly fields?: readonly ResponseFieldError[];
  /** Extra response headers (e.g. Retry-After). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** When to try again after the database could not be reached. */
export const DATABASE_RETRY_AFTER_SECONDS = 2;

/** The message of a request that failed its route's schema. */
const INVALID_INPUT = 'Some of the input is not valid.';

/** The web layer's own errors: their status and the message people see. */
export const HTTP_ERRORS = {
  bad_request: { status: 400, message: 'The request could not be understood.' },
  unauthorized: { status: 401, message: 'Please log in to continue.' },
  csrf_invalid: {
    status: 403,
    message: 'This form has expired or was not sent from MovR. Please go back, reload the page and try again.',
  },
  metrics_token_required: { status: 401, message: 'Send the metrics token: Authorization: Bearer <MOVR_METRICS_TOKEN>.' },
  metrics_token_invalid: { status: 403, message: 'That is not the metrics token.' },
  method_not_allowed: { status: 405, message: 'That method is not allowed here.' },
  not_acceptable: { status: 406, message: 'That response type cannot be produced.' },
  request_timeout: { status: 408, message: 'The request took too long to arrive.' },
  gone: { status: 410, message: 'This is no longer here.' },
  payload_too_large: { status: 413, message: 'The request is too large.' },
  uri_too_long: { status: 414, message: 'The address is too long.' },
  unsupported_media_type: { status: 415, message: 'That content type is not supported.' },
  unprocessable: { status: 422, message: 'The request could not be processed.' },
  too_many_requests: { status: 429, message: 'Too many requests. Please slow down and try again shortly.' },
  headers_too_large: { status: 431, message: 'The request headers are too large.' },
  internal_error: {
    status: 500,
    message: 'Something went wrong on our side. Please try again; if it keeps happening, quote the request id.',
  },
  outcome_unknown: {
    status: 503,
    message:
      'We could not confirm whether your change was saved. Sending the same request again with the same ' +
      'Idempotency-Key is safe; without one, check before trying again.',
  },
  busy: { status: 503, message: 'MovR is busy right now. Please try again in a moment.' },
  database_unavailable: { status: 503, message: 'MovR cannot reach its database right now. Please try again in a moment.' },
  overloaded: { status: 503, message: 'MovR is overloaded right now. Please try again in a moment.' },
  shutting_down: { status: 503, message: 'This MovR server is restarting. Please try again in a moment.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;

/** Every error code MovR answers with: the closed set clients can rely on. */
export type ErrorCode = DomainErrorCode | HttpErrorCode;

export const ERROR_CODES: readonly ErrorCode[] = Object.freeze([
  ...new Set<ErrorCode>([...DOMAIN_ERROR_CODES, ...(Object.keys(HTTP_ERRORS) as HttpErrorCode[])]),
]);

/** The HTTP status an error code is answered with. */
export function statusOfCode(code: ErrorCode): number {
  return code in HTTP_ERRORS ? HTTP_ERRORS[code as HttpErrorCode].status : STATUS_BY_DOMAIN_KIND[DOMAIN_ERRORS[code as DomainErrorCode].kind];
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; fields?: ResponseFieldError[]; requestId?: string };
}

/** The generic code and message of a status that Fastify or a plugin answered on its own. */
/** Codes of particular situations, not the generic code of their status. */
const SITUATION_CODES: ReadonlySet<HttpErrorCode> = new Set([
  'csrf_invalid',
  'metrics_token_required',
  'metrics_token_invalid',
  'outcome_unknown',
  'busy',
  'database_unavailable',
  'overloaded',
  'shutting_down',
]);

const GENERIC_BY_STATUS = new Map<number, { code: ErrorCode; message: string }>();
for (const code of ['not_found', 'forbidden', 'conflict'] as const) {
  GENERIC_BY_STATUS.set(statusOfCode(code), { code, message: errorMessage(code) });
}
for (const [code, { status, message }] of Object.entries(HTTP_ERRORS) as [HttpErrorCode, { status: number; message: string }][]) {
  if (!SITUATION_CODES.has(code)) GENERIC_BY_STATUS.set(status, { code, message });
}

function genericProblem(status: number): { code: ErrorCode; message: string } {
  return GENERIC_BY_STATUS.get(status) ?? { code: 'bad_request', message: HTTP_ERRORS.bad_request.message };
}

/** A problem answered with one of the web layer's codes and its message. */
function httpProblem(code: HttpErrorCode, extra: Partial<HttpProblem> = {}): HttpProblem {
  return { status: HTTP_ERRORS[code].status, code, message: HTTP_ERRORS[code].message, ...extra };
}

export const INTERNAL_ERROR: HttpProblem = Object.freeze(httpProblem('internal_error'));

export const NOT_FOUND: HttpProblem = Object.freeze({ status: 404, code: 'not_found', message: 'There is nothing at this address.' });

/** SQLSTATEs for text the database refuses to store: 22021 character_not_in_repertoire, 22P05 untranslatable_character. */
const TEXT_THE_DATABASE_CANNOT_STORE = new Set(['22021', '22P05']);

/** A form was sent without the CSRF token of a page MovR rendered for this session (see csrf.ts). */
export const CSRF_INVALID: HttpProblem = Object.freeze(httpProblem('csrf_invalid'));

/** The errors @fastify/csrf-protection raises: no secret in the session, or a missing or wrong token. */
const CSRF_ERROR_CODES = new Set(['FST_CSRF_MISSING_SECRET', 'FST_CSRF_INVALID_TOKEN']);

/** A rate limit was reached (see rate-limit.ts); `retryAfterSeconds` says when to try again. */
export class TooManyRequestsError extends Error {
  readonly retryAfterSeconds: number;

  constructor(
    retryAfterMs: number,
    readonly statusCode = 429,
  ) {
    super('Too many requests');
    this.name = 'TooManyRequestsError';
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  }
}

/** '45 seconds', '1 minute', '5 minutes', '2 hours': a rough, friendly wait. */
function waitLabel(seconds: number): string {
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (seconds < 60) return unit(seconds, 'second');
  if (seconds < 3600) return unit(Math.ceil(seconds / 60), 'minute');
  return unit(Math.ceil(seconds / 3600), 'hour');
}

/** What to answer for an error. Pure: logging and sending are done by the handler. */
export function problemFor(error: unknown): HttpProblem {
  if (error instanceof TooManyRequestsError) {
    return {
      status: error.statusCode,
      code: 'too_many_requests',
      message: `Too many attempts. Please wait ${waitLabel(error.retryAfterSeconds)} and try again.`,
      headers: { 'retry-after': String(error.retryAfterSeconds) },
    };
  }
  if (typeof error === 'object' && error !== null && CSRF_ERROR_CODES.has(String((error as { code?: unknown }).code))) {
    return CSRF_INVALID;
  }
  if (error instanceof DomainError) {
    return {
      status: STATUS_BY_DOMAIN_KIND[error.kind],
      code: error.code,
      message: error.message,
      ...(error instanceof ValidationError && error.fields.length > 0 ? { fields: error.fields } : {}),
    };
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const location = validationContext(error);
    return {
      status: 400,
      code: 'validation_failed',
      message: INVALID_INPUT,
      fields: firstPerPath(
        error.validation.map((issue) => ({
          ...(location ? { in: location } : {}),
          path: issue.instancePath.replace(/^\//, '').replaceAll('/', '.'),
          message: issue.message ?? 'Invalid value',
        })),
      ),
    };
  }
  if (TEXT_THE_DATABASE_CANNOT_STORE.has(sqlState(error) ?? '')) {
    // e.g. a NUL character: PostgreSQL cannot store it in text, so it is the input's fault.
    return { status: 400, code: 'validation_failed', message: 'The text contains characters that cannot be stored (such as NUL).' };
  }
  if (error instanceof MetricsAccessError) {
    return httpProblem(error.code, error.code === 'metrics_token_required' ? { headers: { 'www-authenticate': 'Bearer realm="metrics"' } } : {});
  }
  if (error instanceof OverloadedError) {
    return httpProblem('overloaded', { headers: { 'retry-after': String(OVERLOAD_RETRY_AFTER_SECONDS) } });
  }
  if (error instanceof ShuttingDownError) return httpProblem('shutting_down', { headers: { 'retry-after': '1', connection: 'close' } });
  if (error instanceof TransactionRetriesExhaustedError) return httpProblem('busy', { headers: { 'retry-after': '1' } });
  if (error instanceof HashingBusyError) {
    // Too many passwords being checked at once (src/movr/passwords.ts): come back in a moment.
    return httpProblem('busy', { headers: { 'retry-after': String(error.retryAfterSeconds) } });
  }
  if (error instanceof CountersFullError) return httpProblem('busy', { headers: { 'retry-after': '5' } });
  if (error instanceof AmbiguousCommitError) return httpProblem('outcome_unknown', { headers: { 'retry-after': '1' } });
  if (error instanceof DatabaseUnavailableError || isConnectionError(error) || sqlState(error) === QUERY_CANCELED) {
    // The database is down, unreachable, or did not answer within the statement timeout.
    return httpProblem('database_unavailable', { headers: { 'retry-after': String(DATABASE_RETRY_AFTER_SECONDS) } });
  }
  const status = statusOf(error);
  if (status !== undefined && status >= 400 && status < 500) {
    // Fastify's own client errors (bad JSON, body too large, unsupported content type, …) and
    // JSON-schema validation failures: their messages describe the request, not our internals.
    const validation = (error as { validation?: unknown }).validation;
    if (status === 400 && Array.isArray(validation)) {
      return { status, code: 'validation_failed', message: INVALID_INPUT };
    }
    const message = (error as { message?: unknown }).message;
    const generic = genericProblem(status);
    return {
      status,
      code: generic.code,
      message: typeof message === 'string' && message.length > 0 && message.length <= 300 ? message : generic.message,
    };
  }
  return INTERNAL_ERROR;
}

/** One problem per field, the first (as the domain reports them). */
function firstPerPath(fields: ResponseFieldError[]): ResponseFieldError[] {
  const seen = new Set<string>();
  return fields.filter((field) => !seen.has(field.path) && seen.add(field.path));
}

function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' && Number.isInteger(status) ? status : undefined;
}

function validationContext(error: unknown): ResponseFieldError['in'] {
  const context = (error as { validationContext?: unknown }).validationContext;
  return context === 'body' || context === 'querystring' || context === 'params' || context === 'headers'
    ? context
    : undefined;
}

const JSON_PATHS = /^\/(api(\/|$)|healthz$|readyz$|metrics$)/;

/** Answer this request in JSON rather than HTML? */
export function wantsJson(request: Pick<FastifyRequest, 'url' | 'headers'>): boolean {
  const path = request.url.split('?', 1)[0] ?? '/';
  if (JSON_PATHS.test(path)) return true;
  return prefersJson(request.headers.accept);
}

const OFFERED = ['text/html', 'application/json'];

/**
 * Content negotiation between text/html and application/json by q-values and specificity
 * (RFC 9110 §12.5.1, by `negotiator`): `application/json, *\/*` means JSON, while a bare
 * `*\/*` (curl, fetch), no Accept at all or a browser's Accept means HTML.
 */
export function prefersJson(accept: string | undefined): boolean {
  return new Negotiator({ headers: { accept } }).mediaType(OFFERED) === 'application/json';
}

/** Sends a problem as JSON or as an HTML page, whichever the request prefers. */
export async function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: HttpProblem): Promise<FastifyReply> {
  reply.code(problem.status);
  for (const [name, value] of Object.entries(problem.headers ?? {})) reply.header(name, value);
  if (problem.status >= 500) reply.header('cache-control', 'no-store');
  if (wantsJson(request)) {
    const body: ErrorBody = { error: { code: problem.code, message: problem.message } };
    if (problem.fields) body.error.fields = [...problem.fields];
    if (problem.status >= 500) body.error.requestId = request.id;
    return reply.type('application/json; charset=utf-8').send(body);
  }
  // As it was sent (percent-encoded), never decoded: a page cannot be made to say arbitrary words.
  const path = request.url.split('?', 1)[0] ?? '/';
  const page = problem.status === 404 ? 'not-found' : 'error';
  const data = {
    title: problem.status === 404 ? 'Page not found' : problem.status === 503 ? 'Back in a moment' : problem.status >= 500 ? 'Something went wrong' : 'That did not work',
    problem,
    path,
    requestId: problem.status >= 500 ? request.id : undefined,
  };
  let html: string;
  try {
    // The layout's navigation (who is logged in, the log-out form) works on error pages too.
    html = await reply.viewAsync(page, { ...pageContext(request, reply), ...data });
  } catch (renderError) {
    request.log.error({ err: renderError }, 'could not render the error page');
    html = `<!doctype html><html lang="en"><meta charset="utf-8"><title>MovR</title><h1>${problem.status}</h1><p>${escapeHtml(problem.message)}</p></html>`;
  }
  return reply.type('text/html; charset=utf-8').send(html);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const FRAMEWORK_ERROR_MESSAGES: Readonly<Record<string, string>> = {
  FST_ERR_BAD_URL: 'The address is not valid: it contains a malformed %-escape.',
  FST_ERR_MAX_PARAM_LENGTH: 'A part of the address is too long.',
};

/**
 * Fastify's `frameworkErrors` option: errors found before any route or hook runs (a malformed
 * %-escape in the path, a path parameter longer than maxParamLength). They go through the same
 * problem pages and JSON as every other error, with the security headers and the request id
 * (no hook has set them yet), and never echo the address.
 */
export function handleFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 400;
  // Its code goes on the request's one line (app.ts).
  request.problemCode = error.code;
  reply.headers(SECURITY_HEADERS);
  reply.header('x-request-id', request.id);
  reply.header('cache-control', 'no-store');
  const generic = status >= 500 ? INTERNAL_ERROR : genericProblem(status);
  void sendProblem(request, reply, { status, code: generic.code, message: FRAMEWORK_ERROR_MESSAGES[error.code] ?? generic.message });
}

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP parser refuses before there is a request
 * (malformed HTTP, headers too large, a request that took too long). Answered as Fastify does,
 * with the app's error shape and security headers, and the connection closed.
 */
export function handleClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const code: HttpErrorCode =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'request_timeout' : error.code === 'HPE_HEADER_OVERFLOW' ? 'headers_too_large' : 'bad_request';
  const { status, message } = HTTP_ERRORS[code];
  const body = JSON.stringify({ error: { code, message } });
  if (socket.writable) {
    const headers = Object.entries(SECURITY_HEADERS).map(([name, value]) => `${name}: ${value}\r\n`).join('');
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n${headers}\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/** The message of a pre-flight page the account of which was deleted in another session. */
export const ACCOUNT_GONE = 'That account no longer exists. Log in with another one, or sign up.';

/** The error handler and the not-found handler, on the root app. */
export const errorsPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler(async (error: unknown, request, reply) => {
      // The logged-in user's account was deleted in another session: every page ends this one.
      if (isDomainError(error, 'user_not_found') && request.currentUser && !wantsJson(request)) {
        await logOut(request);
        return reply.flash('info', ACCOUNT_GONE).redirect('/login', 303);
      }
      const problem = problemFor(error);
      if (problem.code === 'internal_error') {
        request.log.error({ err: error, code: problem.code }, 'request failed');
      } else if (problem.status >= 500) {
        // Unavailable for now (database, load, shutdown): worth a warning, not a stack.
        request.log.warn({ status: problem.status, code: problem.code, reason: (error as Error).message }, problem.message);
      } else {
        // A refusal (4xx): its code goes on the request's one line (app.ts), not a line of its own.
        request.problemCode = problem.code;
      }
      return sendProblem(request, reply, problem);
    });
    app.setNotFoundHandler(async (request, reply) => {
      request.problemCode = NOT_FOUND.code;
      return sendProblem(request, reply, NOT_FOUND);
    });
  },
  { name: 'movr-errors', dependencies: ['movr-pages'] },
);
