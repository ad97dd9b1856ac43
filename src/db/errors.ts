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
