// Errors the domain raises on purpose. Every one has a stable machine-readable code from
// DOMAIN_ERRORS, which also holds its kind (what sort of problem it is) and the message people
// see: pages, the API and the workload show error.message and never write their own. The web
// layer (src/web/errors.ts) decides which HTTP status a kind means, so nothing here knows about
// HTTP. A message may be shown to anyone as is: never put SQL, stack traces or other internals
// in it.
import { cityLabel } from '../region-map.ts';

/** One problem with one input field, e.g. `{ path: 'name', message: 'Enter your name.' }`. */
export interface FieldError {
  /** Dotted path of the field in the submitted data ('' for the input as a whole). */
  readonly path: string;
  readonly message: string;
}

export type DomainErrorKind = 'not_found' | 'conflict' | 'invalid' | 'forbidden' | 'unauthenticated';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Message = string | ((params: any) => string);

interface ErrorSpec<M extends Message = Message> {
  readonly kind: DomainErrorKind;
  readonly message: M;
}

const spec = <M extends Message>(kind: DomainErrorKind, message: M): ErrorSpec<M> => ({ kind, message });

/** A promo code as a message shows it: long ones cut short. */
const shown = (code: string) => (code.length > 100 ? `${code.slice(0, 40)}…` : code);

/** Every error code of the domain, its kind and its message. */
export const DOMAIN_ERRORS = {
  // the generic code of each kind
  not_found: spec('not_found', 'There is nothing at this address.'),
  conflict: spec('conflict', 'That clashes with how things are now.'),
  forbidden: spec('forbidden', 'You are not allowed to do that.'),
  // not_found
  city_not_found: spec('not_found', 'There is no such city.'),
  user_not_found: spec('not_found', 'That user does not exist.'),
  vehicle_not_found: spec('not_found', 'There is no such vehicle.'),
  ride_not_found: spec('not_found', 'There is no such ride.'),
  session_not_found: spec('not_found', 'There is no such session: it has ended, or it is not yours.'),
  promo_code_not_found: spec('not_found', (p: { code: string }) => `There is no promo code "${shown(p.code)}".`),
  username_not_found: spec('not_found', (p: { username: string }) => `There is no user "${p.username}".`),
  region_not_found: spec('not_found', 'There is no such region.'),
  // conflict
  username_taken: spec('conflict', (p: { username: string }) => `The username "${p.username}" is taken. Choose another.`),
  ride_open: spec('conflict', 'End your ride before deleting your account.'),
  vehicle_unavailable: spec('conflict', 'Someone just took this vehicle. Please choose another one.'),
  ride_already_open: spec('conflict', 'You already have a ride in progress. End it before starting another.'),
  ride_already_ended: spec('conflict', 'This ride has already ended.'),
  outside_home_city: spec(
    'conflict',
    (p: { homeCity: string }) => `You can ride in your home city, ${cityLabel(p.homeCity)}, only: your account and rides live there.`,
  ),
  vehicle_retired: spec('conflict', 'This vehicle is already retired.'),
  vehicle_in_use: spec('conflict', 'Someone is riding this vehicle. Retire it once the ride has ended.'),
  idempotency_key_reused: spec(
    'conflict',
    'This Idempotency-Key was already used for a different request. Use a new key for a new request.',
  ),
  location_conflict: spec(
    'conflict',
    'A different location was recorded for this ride at the same instant. Send the new one again in a moment.',
  ),
  ride_points_limit: spec(
    'conflict',
    (p: { max: number }) => `This ride has recorded the most location points a ride can hold (${p.max.toLocaleString('en-US')}). End it and start a new one.`,
  ),
  vehicle_limit_reached: spec(
    'conflict',
    (p: { max: number }) => `You already share ${p.max} vehicles, the most one owner can. Retire one before adding another.`,
  ),
  promo_code_exists: spec('conflict', (p: { code: string }) => `The promo code "${p.code}" already exists.`),
  promo_code_expired: spec('conflict', (p: { code: string }) => `The promo code "${p.code}" has expired.`),
  promo_code_not_active: spec('conflict', (p: { code: string }) => `The promo code "${p.code}" is not valid yet.`),
  promo_code_already_added: spec('conflict', (p: { code: string }) => `You have already added the promo code "${p.code}".`),
  promo_code_exhausted: spec('conflict', (p: { code: string }) => `The promo code "${p.code}" has been used up.`),
  promo_code_not_here: spec('conflict', (p: { code: string; city: string }) => `The promo code "${p.code}" does not apply in ${cityLabel(p.city)}.`),
  promo_code_ended: spec('conflict', (p: { code: string }) => `The promo code "${p.code}" has already ended.`),
  vehicle_lost: spec('conflict', 'This vehicle is already reported lost.'),
  vehicle_not_lost: spec('conflict', 'This vehicle is not reported lost.'),
  // forbidden
  not_vehicle_owner: spec('forbidden', 'You can only retire your own vehicles.'),
  not_operator: spec('forbidden', 'This part of MovR is for operators only.'),
  cross_site_request: spec('forbidden', 'Requests from other sites cannot use your MovR session. Use a bearer token.'),
  // unauthenticated
  invalid_credentials: spec('unauthenticated', 'The username or password is not right.'),
  invalid_token: spec('unauthenticated', (p: { malformed: boolean }) =>
    p.malformed ? 'Send the token as Authorization: Bearer <token>.' : 'Your token is not valid or has expired. Log in again.',
  ),
  unauthenticated: spec('unauthenticated', 'Log in first: send Authorization: Bearer <token> (see POST /api/v1/auth/login).'),
  // invalid: the message says what is wrong with which field
  validation_failed: spec('invalid', 'Some of the details are not valid.'),
  invalid_json: spec('invalid', 'The request body is not valid JSON.'),
} as const satisfies Record<string, ErrorSpec>;

export type DomainErrorCode = keyof typeof DOMAIN_ERRORS;

export const DOMAIN_ERROR_CODES = Object.freeze(Object.keys(DOMAIN_ERRORS) as DomainErrorCode[]);

type ParamsOf<C extends DomainErrorCode> = (typeof DOMAIN_ERRORS)[C]['message'] extends (params: infer P) => string ? [P] : [];

/** The message people see for an error code. */
export function errorMessage<C extends DomainErrorCode>(code: C, ...params: ParamsOf<C>): string {
  const message: Message = DOMAIN_ERRORS[code].message;
  return typeof message === 'function' ? message(params[0]) : message;
}

export abstract class DomainError extends Error {
  abstract readonly kind: DomainErrorKind;

  constructor(
    /** Stable, snake_case identifier clients can rely on (e.g. 'vehicle_unavailable'). */
    readonly code: DomainErrorCode,
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

  constructor(message: string, code: DomainErrorCode = 'not_found', options?: ErrorOptions) {
    super(code, message, options);
  }
}

/** The request is valid but clashes with the current state (e.g. a vehicle already in use). */
export class ConflictError extends DomainError {
  readonly kind = 'conflict';

  constructor(message: string, code: DomainErrorCode = 'conflict', options?: ErrorOptions) {
    super(code, message, options);
  }
}

/** The caller is known but may not do this (e.g. retire someone else's vehicle). */
export class ForbiddenError extends DomainError {
  readonly kind = 'forbidden';

  constructor(message: string, code: DomainErrorCode = 'forbidden', options?: ErrorOptions) {
    super(code, message, options);
  }
}

/** Wrong username or password, or a token that is not (or no longer) valid. */
export class AuthenticationError extends DomainError {
  readonly kind = 'unauthenticated';

  constructor(message: string, code: DomainErrorCode = 'unauthenticated', options?: ErrorOptions) {
    super(code, message, options);
  }
}

/** The input breaks a rule; `fields` says which inputs and why. */
export class ValidationError extends DomainError {
  readonly kind = 'invalid';

  constructor(
    message: string,
    readonly fields: readonly FieldError[] = [],
    options?: ErrorOptions & { code?: 'validation_failed' | 'invalid_json' },
  ) {
    super(options?.code ?? 'validation_failed', message, options);
  }

  /** One field is wrong: the message is the field's message. */
  static field(path: string, message: string): ValidationError {
    return new ValidationError(message, [{ path, message }]);
  }

  /** Several fields may be wrong: the message is the only one's, or a summary. */
  static fields(fields: readonly FieldError[]): ValidationError {
    return new ValidationError(fields.length === 1 ? fields[0]!.message : errorMessage('validation_failed'), fields);
  }
}

const CLASS_BY_KIND: Record<Exclude<DomainErrorKind, 'invalid'>, new (message: string, code: DomainErrorCode) => DomainError> = {
  not_found: NotFoundError,
  conflict: ConflictError,
  forbidden: ForbiddenError,
  unauthenticated: AuthenticationError,
};

/** The error of a code, with its kind and message: `throw domainError('vehicle_unavailable')`. */
export function domainError<C extends Exclude<DomainErrorCode, 'validation_failed' | 'invalid_json'>>(
  code: C,
  ...params: ParamsOf<C>
): DomainError {
  const kind = DOMAIN_ERRORS[code].kind as Exclude<DomainErrorKind, 'invalid'>;
  return new CLASS_BY_KIND[kind](errorMessage(code, ...params), code);
}

/** Is this the domain error with that code? (Typed: a code that does not exist does not compile.) */
export function isDomainError<C extends DomainErrorCode>(error: unknown, ...codes: C[]): error is DomainError & { readonly code: C } {
  return error instanceof DomainError && (codes as DomainErrorCode[]).includes(error.code);
}

