// Reading database errors. Drizzle wraps driver errors, so the SQLSTATE may sit in err.cause.

/** The SQLSTATE of a database error, looking through Drizzle's wrapping; undefined if none. */
export function sqlState(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The name of the constraint a database error is about (unique or foreign key violations). */
export function violatedConstraint(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const constraint = (e as { constraint?: unknown }).constraint;
    if (typeof constraint === 'string') return constraint;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export const SERIALIZATION_FAILURE = '40001';
export const STATEMENT_COMPLETION_UNKNOWN = '40003';
export const UNIQUE_VIOLATION = '23505';
export const FOREIGN_KEY_VIOLATION = '23503';

/**
 * The commit of a transaction may or may not have happened (CockroachDB's SQLSTATE 40003, or
 * the connection was lost while committing). Retrying blindly could apply the work twice.
 */
export class AmbiguousCommitError extends Error {
  constructor(
    readonly transactionName: string,
    options: { cause: unknown },
  ) {
    super(`The outcome of transaction "${transactionName}" is unknown: it may or may not have committed`, options);
    this.name = 'AmbiguousCommitError';
  }
}

/** A transaction kept failing with serialization conflicts (SQLSTATE 40001) up to its attempt limit. */
export class TransactionRetriesExhaustedError extends Error {
  constructor(
    readonly transactionName: string,
    readonly attempts: number,
    options: { cause: unknown },
  ) {
    super(`Transaction "${transactionName}" still conflicted after ${attempts} attempts`, options);
    this.name = 'TransactionRetriesExhaustedError';
  }
}

/** SQLSTATE class 08 (connection exception) and the shutdowns of class 57 (the server went away). */
const CONNECTION_STATES = /^(08...|57P0[1-3])$/;
/** Node's socket errors. */
const SOCKET_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTCONN', 'EAI_AGAIN']);
/** What node-postgres and pg-pool say when a connection is gone, could not be made, or stopped answering. */
const CONNECTION_MESSAGES =
  /Connection terminated|not queryable|timeout exceeded when trying to connect|Query read timeout|Connection ended|connection lost|Client was closed/i;

/**
 * Did the connection fail, rather than the statement? A lost, refused or silent connection, or a
 * server shutting down: the database may well be fine a moment later. Looks through wrapping.
 */
export function isConnectionError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    if (e instanceof ConnectionLostError) return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (CONNECTION_STATES.test(code) || SOCKET_CODES.has(code))) return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && CONNECTION_MESSAGES.test(message) && sqlState(e) === undefined) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** The transaction's connection was found broken before COMMIT was sent: nothing was committed. */
export class ConnectionLostError extends Error {
  constructor(options?: { cause?: unknown }) {
    super('The database connection was lost before the transaction committed', options);
    this.name = 'ConnectionLostError';
  }
}

/** The database could not be reached (or kept failing) through every attempt of a transaction. */
export class DatabaseUnavailableError extends Error {
  constructor(
    readonly transactionName: string,
    options: { cause: unknown },
  ) {
    super(`The database could not be reached for transaction "${transactionName}"`, options);
    this.name = 'DatabaseUnavailableError';
  }
}

/** SQLSTATE 57014: a statement ran past statement_timeout and was cancelled. */
export const QUERY_CANCELED = '57014';
