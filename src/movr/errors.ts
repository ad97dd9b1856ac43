// Errors the domain raises on purpose. Each carries a stable machine-readable `code`; the web
// layer (src/web/errors.ts) decides which HTTP status a code means, so nothing here knows about
// HTTP. A DomainError's message is written for the person using MovR and may be shown to them
// as is: never put SQL, stack traces or other internals in it.

/** One problem with one input field, e.g. `{ path: 'email', message: 'Enter an email address' }`. */
export interface FieldError {
  /** Dotted path of the field in the submitted data ('' for the input as a whole). */
  readonly path: string;
  readonly message: string;
}

export abstract class DomainError extends Error {
  /** Stable, snake_case identifier clients can rely on (e.g. 'not_found'). */
  abstract readonly code: string;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The thing asked for does not exist (or the caller may not know it exists). */
export class NotFoundError extends DomainError {
  readonly code = 'not_found';
}

/** The request is valid but clashes with the current state (e.g. a vehicle already in use). */
export class ConflictError extends DomainError {
  readonly code = 'conflict';
}

/** The input breaks a rule; `fields` says which inputs and why. */
export class ValidationError extends DomainError {
  readonly code = 'validation_failed';

  constructor(
    message: string,
    readonly fields: readonly FieldError[] = [],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
