// What the JSON API's route files share: who is calling, and the renaming of domain field names
// to the API's.
import type { FastifyRequest } from 'fastify';
import { DomainError, ValidationError, domainError, errorMessage } from '../../movr/errors.ts';
import type { UserRef } from '../../movr/users.ts';
import type { ResponseFieldError } from '../errors.ts';

/** Who is calling: a user, and how they proved it. */
export interface ApiCaller extends UserRef {
  readonly via: 'token' | 'session';
  /** The bearer token's id (via 'token'), for revoking it on log-out. */
  readonly tokenId?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller of a secured API route (see index.ts); null elsewhere. */
    apiCaller: ApiCaller | null;
  }
}

/**
 * The OpenAPI security requirement of routes that need a caller: a bearer token or the web
 * site's session cookie. Routes whose schema declares it are authenticated by index.ts, so the
 * document and the enforcement cannot disagree.
 */
type SecurityRequirement = Readonly<Record<string, readonly string[]>>;
const BEARER_AUTH: SecurityRequirement = { bearerAuth: [] };
const SESSION_COOKIE_AUTH: SecurityRequirement = { sessionCookie: [] };
export const SECURED: readonly SecurityRequirement[] = Object.freeze([BEARER_AUTH, SESSION_COOKIE_AUTH]);

/** The caller of a secured route (always there: the route would have answered 401 otherwise). */
export function callerOf(request: FastifyRequest): ApiCaller {
  const caller = request.apiCaller;
  if (!caller) throw domainError('unauthenticated');
  return caller;
}

/** The request body is not JSON (or not well-formed JSON). */
export class MalformedJsonError extends DomainError {
  readonly kind = 'invalid';

  constructor(options?: ErrorOptions) {
    super('invalid_json', errorMessage('invalid_json'), options);
  }
}

/**
 * Runs domain work and renames the fields of its validation errors to the API's names
 * (`cardNumber` → `card_number`, `location` → `current_location`), saying which part of the
 * request they are in.
 */
export async function withApiFieldNames<T>(
  names: Readonly<Record<string, string>>,
  where: NonNullable<ResponseFieldError['in']>,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const fields: ResponseFieldError[] = error.fields.map((field) => ({
      in: where,
      path: names[field.path] ?? field.path,
      message: field.message,
    }));
    throw new ValidationError(error.message, fields, { cause: error });
  }
}
