// How MovR logs (pino, through Fastify): one line per request at info, when it is answered
// (method, route, status, duration, request id, and the error code of a refusal); JSON lines,
// or in a development terminal pretty, coloured single lines (pino-pretty, decided once at
// start-up). Secrets and personal data are never written: the redact paths below censor
// passwords, tokens, cookies, card numbers and addresses wherever a log object carries them
// (up to three levels deep), and errors are serialised without the SQL parameters of a failed
// statement (Drizzle puts them in its message) or the database's detail (which quotes values).
import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';
import pino, { type Logger, type LoggerOptions } from 'pino';
import type { Config } from '../config.ts';

/** Keys whose values are never logged, at any of the first three levels of a log object. */
export const REDACTED_KEYS = [
  'password',
  'currentPassword',
  'current_password',
  'newPassword',
  'new_password',
  'token',
  'accessToken',
  'access_token',
  'refreshToken',
  'secret',
  'secretKey',
  'authorization',
  'cookie',
  'set-cookie',
  'creditCard',
  'credit_card',
  'cardNumber',
  'card_number',
  'card',
  'address',
  'startAddress',
  'start_address',
  'endAddress',
  'end_address',
] as const;

export const CENSOR = '[redacted]';

/** pino redact paths: each key at the top, one and two levels down (bracketed where not an identifier). */
export function redactPaths(): string[] {
  const key = (k: string) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : `["${k}"]`);
  const at = (prefix: string, k: string) => (key(k).startsWith('[') ? `${prefix}${key(k)}` : `${prefix}.${key(k)}`);
  return REDACTED_KEYS.flatMap((k) => [key(k), at('*', k), at('*.*', k)]);
}

/** A Drizzle "Failed query: … params: …" message without its parameters. */
function withoutParams(text: string): string {
  return text.replace(/\nparams: .*?(?=\n {4}at |$)/s, '\nparams: [redacted]');
}

/** SQLSTATE class 22, data exceptions: the database's message quotes the value it refused. */
const QUOTES_ITS_INPUT = /^22/;

type SerializedError = Record<string, unknown> & { message?: string; stack?: string; cause?: unknown; code?: unknown };

/**
 * pino's error serialiser (each cause an object of its own), without what could carry personal
 * data: the parameters of a failed statement (`params`, and the copy in Drizzle's message and
 * stack), the database's `detail` (e.g. "Key (username)=(ada) already exists.") and the value a
 * data exception quotes (invalid input syntax for type uuid: "…").
 */
export function serializeError(error: unknown): unknown {
  const scrub = (value: unknown, depth: number): unknown => {
    if (typeof value !== 'object' || value === null || depth > 5) return value;
    const out = { ...(value as SerializedError) };
    if ('params' in out) out.params = CENSOR;
    if ('parameters' in out) out.parameters = CENSOR;
    if (typeof out.detail === 'string') out.detail = CENSOR;
    const quotesInput = typeof out.code === 'string' && QUOTES_ITS_INPUT.test(out.code);
    const clean = (text: string) => {
      const once = withoutParams(text);
      return quotesInput ? once.replace(/"[^"\n]*"/g, `"${CENSOR}"`) : once;
    };
    if (typeof out.message === 'string') out.message = clean(out.message);
    if (typeof out.stack === 'string') out.stack = clean(out.stack);
    if (out.cause !== undefined) out.cause = scrub(out.cause, depth + 1);
    return out;
  };
  return scrub(pino.stdSerializers.errWithCause(error as Error), 0);
}

function isInstalled(name: string): boolean {
  try {
    createRequire(import.meta.url).resolve(name);
    return true;
  } catch {
    return false;
  }
}

/** Pretty, coloured lines: in development, on a terminal, when pino-pretty is installed. */
export function prettyLogs(config: Pick<Config, 'nodeEnv'>, stdout: { isTTY?: boolean } = process.stdout): boolean {
  return config.nodeEnv === 'development' && stdout.isTTY === true && isInstalled('pino-pretty');
}

/**
 * The fields a request's line carries besides its message; pretty lines leave those out that
 * the message already says.
 */
const SAID_IN_THE_MESSAGE = ['method', 'route', 'status', 'ms'];

/** pino's options for MovR's logs; `pretty` is decided once, at start-up (prettyLogs). */
export function loggerOptions(config: Pick<Config, 'logLevel' | 'nodeEnv'>, pretty = prettyLogs(config)): LoggerOptions {
  const base: LoggerOptions = {
    level: config.logLevel,
    redact: { paths: redactPaths(), censor: CENSOR },
    serializers: { err: serializeError, error: serializeError },
  };
  if (!pretty) return base;
  return { ...base, transport: { target: 'pino-pretty', options: PRETTY_OPTIONS } };
}

/** pino-pretty's options: one coloured line per entry, the time of day, no pid or host name. */
export const PRETTY_OPTIONS = Object.freeze({
  translateTime: 'HH:MM:ss.l',
  singleLine: true,
  colorize: true,
  ignore: ['pid', 'hostname', ...SAID_IN_THE_MESSAGE].join(','),
});

/** Fastify's logger option. */
export function fastifyLoggerOptions(config: Config): FastifyServerOptions['logger'] {
  return loggerOptions(config) as FastifyServerOptions['logger'];
}

/** A logger outside Fastify (the cluster's primary), made the same way. */
export function createLogger(config: Pick<Config, 'logLevel' | 'nodeEnv'>, bindings: Record<string, unknown> = {}): Logger {
  return pino(loggerOptions(config)).child(bindings);
}

/** A request's one line: "GET /api/v1/vehicles 200 12 ms". */
export function requestLine(method: string, route: string, status: number, ms: number): string {
  return `${method} ${route} ${status} ${ms} ms`;
}
