// Errors the domain raises on purpose. Each carries a stable machine-readable `code` and a
// `kind` that says what sort of problem it is; the web layer (src/web/errors.ts) decides which
// HTTP status a kind means, so nothing here knows about HTTP. A DomainError's message is written
// for the person using MovR and may be shown to them as is: never put SQL, stack traces or other
// internals in it.

/** One problem with one input field, e.g. `{ path: 'email', message: 'Enter an email address' }`. */
export interface FieldError {
  /** Dotted path of the field in the submitted data ('' for the input as a whole). */
  readonly path: string;
  readonly message: string;
}

export type DomainErrorKind = 'not_found' | 'conflict' | 'invalid' | 'forbidden' | 'unauthenticated';

export abstract class DomainError extends Error {
  abstract readonly kind: DomainErrorKind;

  constructor(
    /** Stable, snake_case identifier clients can rely on (e.g. 'vehicle_unavailable'). */
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The thing asked for does not exist (or the caller may not know it exists). */
export class NotFoundError extends DomainError {
  readonly kind = 'not_found';

  constructor(message: string, code = 'not_found', options?: ErrorOptions) {
    super(code, message, options);
  }
}

/** The request is valid but clashes with the current state (e.g. a vehicle already in use). */
export class ConflictError extends DomainError {
  readonly kind = 'conflict';

  constructor(message: string, code = 'conflict', options?: ErrorOptions) {
    super(code, message, options);
  }
}

/** The caller is known but may not do this (e.g. retire someone else's vehicle). */
export class ForbiddenError extends DomainError {
  readonly kind = 'forbidden';

  constructor(message: string, code = 'forbidden', options?: ErrorOptions) {
    super(code, message, options);
  }
}

/** Wrong username or password, or a token that is not (or no longer) valid. */
export class AuthenticationError extends DomainError {
  readonly kind = 'unauthenticated';

  constructor(message: string, code = 'unauthenticated', options?: ErrorOptions) {
    super(code, message, options);
  }
}

/** The input breaks a rule; `fields` says which inputs and why. */
export class ValidationError extends DomainError {
  readonly kind = 'invalid';

  constructor(
    message: string,
    readonly fields: readonly FieldError[] = [],
    options?: ErrorOptions,
  ) {
    super('validation_failed', message, options);
  }

  /** One field is wrong: the message is the field's message. */
  static field(path: string, message: string): ValidationError {
    return new ValidationError(message, [{ path, message }]);
  }
}
