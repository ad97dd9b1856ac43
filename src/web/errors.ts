// The one place errors become HTTP responses.
//
// Every error, thrown anywhere in a route, maps to a status, a stable code and a message that is
// safe to show. Clients that want JSON (paths under /api, the health checks, or an Accept header
// preferring application/json) get `{ "error": { "code", "message", "fields"? } }`; browsers get
// a friendly HTML page. A 5xx never shows internals (no stack, no SQL): it is logged with the
// error object and answered with a generic message and the request id to quote.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AmbiguousCommitError, TransactionRetriesExhaustedError, sqlState } from '../db/errors.ts';
import { DomainError, type DomainErrorKind, type FieldError, ValidationError } from '../movr/errors.ts';
import { pageContext } from './page.ts';

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
  readonly code: string;
  /** Safe to show to anyone. */
  readonly message: string;
  readonly fields?: readonly ResponseFieldError[];
  /** Extra response headers (e.g. Retry-After). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ErrorBody {
  error: { code: string; message: string; fields?: ResponseFieldError[]; requestId?: string };
}

const CODE_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  408: 'request_timeout',
  409: 'conflict',
  410: 'gone',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  422: 'unprocessable',
  429: 'too_many_requests',
  431: 'headers_too_large',
};

const MESSAGE_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'The request could not be understood.',
  401: 'Please log in to continue.',
  403: 'You are not allowed to do that.',
  404: 'There is nothing at this address.',
  405: 'That method is not allowed here.',
  413: 'The request is too large.',
  415: 'That content type is not supported.',
  429: 'Too many requests. Please slow down and try again shortly.',
};

export const INTERNAL_ERROR: HttpProblem = Object.freeze({
  status: 500,
  code: 'internal_error',
  message: 'Something went wrong on our side. Please try again; if it keeps happening, quote the request id.',
});

export const NOT_FOUND: HttpProblem = Object.freeze({
  status: 404,
  code: 'not_found',
  message: MESSAGE_BY_STATUS[404] ?? 'Not found.',
});

/** SQLSTATEs for text the database refuses to store: 22021 character_not_in_repertoire, 22P05 untranslatable_character. */
const TEXT_THE_DATABASE_CANNOT_STORE = new Set(['22021', '22P05']);

/** A form was sent without the CSRF token of a page MovR rendered for this session (see csrf.ts). */
export const CSRF_INVALID: HttpProblem = Object.freeze({
  status: 403,
  code: 'csrf_invalid',
  message: 'This form has expired or was not sent from MovR. Please go back, reload the page and try again.',
});

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
      message: 'Some of the input is not valid.',
      fields: error.validation.map((issue) => ({
        ...(location ? { in: location } : {}),
        path: issue.instancePath.replace(/^\//, '').replaceAll('/', '.'),
        message: issue.message ?? 'Invalid value',
      })),
    };
  }
  if (TEXT_THE_DATABASE_CANNOT_STORE.has(sqlState(error) ?? '')) {
    // e.g. a NUL character: PostgreSQL cannot store it in text, so it is the input's fault.
    return { status: 400, code: 'validation_failed', message: 'The text contains characters that cannot be stored (such as NUL).' };
  }
  if (error instanceof TransactionRetriesExhaustedError) {
    return {
      status: 503,
      code: 'busy',
      message: 'MovR is busy right now. Please try again in a moment.',
      headers: { 'retry-after': '1' },
    };
  }
  if (error instanceof AmbiguousCommitError) {
    return {
      status: 500,
      code: 'outcome_unknown',
      message: 'We could not confirm whether your change was saved. Please check before trying again.',
    };
  }
  const status = statusOf(error);
  if (status !== undefined && status >= 400 && status < 500) {
    // Fastify's own client errors (bad JSON, body too large, unsupported content type, …) and
    // JSON-schema validation failures: their messages describe the request, not our internals.
    const validation = (error as { validation?: unknown }).validation;
    if (status === 400 && Array.isArray(validation)) {
      return { status, code: 'validation_failed', message: 'Some of the input is not valid.' };
    }
    const message = (error as { message?: unknown }).message;
    return {
      status,
      code: CODE_BY_STATUS[status] ?? 'bad_request',
      message:
        typeof message === 'string' && message.length > 0 && message.length <= 300
          ? message
          : (MESSAGE_BY_STATUS[status] ?? 'The request could not be handled.'),
    };
  }
  return INTERNAL_ERROR;
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

const JSON_PATHS = /^\/(api(\/|$)|healthz$|readyz$)/;

/** Answer this request in JSON rather than HTML? */
export function wantsJson(request: Pick<FastifyRequest, 'url' | 'headers'>): boolean {
  const path = request.url.split('?', 1)[0] ?? '/';
  if (JSON_PATHS.test(path)) return true;
  return prefersJson(request.headers.accept);
}

/**
 * Content negotiation between application/json and text/html by q-values (RFC 9110 §12.5.1).
 * On a tie the more specific match wins, so `application/json, *\/*` means JSON while a bare
 * `*\/*` (curl, fetch) or a browser's Accept means HTML.
 */
export function prefersJson(accept: string | undefined): boolean {
  if (!accept) return false;
  const json = preference(accept, 'application', 'json');
  const html = preference(accept, 'text', 'html');
  if (json.q === 0) return false;
  return json.q > html.q || (json.q === html.q && json.specificity > html.specificity);
}

function preference(accept: string, type: string, subtype: string): { q: number; specificity: number } {
  let best = { q: 0, specificity: 0 };
  for (const range of accept.split(',')) {
    const [mediaRange = '', ...parameters] = range.split(';');
    const [rangeType = '', rangeSubtype = ''] = mediaRange.trim().toLowerCase().split('/');
    let specificity = 0;
    if (rangeType === type && rangeSubtype === subtype) specificity = 3;
    else if (rangeType === type && rangeSubtype === '*') specificity = 2;
    else if (rangeType === '*' && rangeSubtype === '*') specificity = 1;
    if (specificity <= best.specificity) continue;
    let q = 1;
    for (const parameter of parameters) {
      const [name = '', value = ''] = parameter.split('=');
      if (name.trim().toLowerCase() === 'q') {
        const parsed = Number(value.trim());
        q = Number.isFinite(parsed) ? Math.min(Math.max(parsed, 0), 1) : 1;
      }
    }
    best = { q, specificity };
  }
  return best;
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
  const path = decodePath(request.url.split('?', 1)[0] ?? '/');
  const page = problem.status === 404 ? 'not-found' : 'error';
  const data = {
    title: problem.status === 404 ? 'Page not found' : problem.status >= 500 ? 'Something went wrong' : 'That did not work',
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

function decodePath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
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
 * %-escape in the path, a path parameter longer than maxParamLength). JSON clients (the API)
 * get the one error shape; everyone else gets exactly what Fastify answers by default.
 */
export function handleFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 400;
  if (status < 500 && wantsJson(request)) {
    request.log.info({ status, code: error.code }, error.message);
    void sendProblem(request, reply, {
      status,
      code: CODE_BY_STATUS[status] ?? 'bad_request',
      message: FRAMEWORK_ERROR_MESSAGES[error.code] ?? MESSAGE_BY_STATUS[status] ?? 'The request could not be understood.',
    });
    return;
  }
  const body = JSON.stringify({
    error: status >= 500 ? 'Internal Server Error' : 'Bad Request',
    code: error.code,
    message: error.message,
    statusCode: status,
  });
  reply.raw.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  reply.raw.end(body);
}

/** Installs the error handler and the not-found handler on the root instance. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(async (error: unknown, request, reply) => {
    const problem = problemFor(error);
    if (problem.status >= 500) {
      request.log.error({ err: error, code: problem.code }, 'request failed');
    } else {
      request.log.info({ status: problem.status, code: problem.code }, problem.message);
    }
    return sendProblem(request, reply, problem);
  });
  app.setNotFoundHandler(async (request, reply) => sendProblem(request, reply, NOT_FOUND));
}
