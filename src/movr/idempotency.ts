// Safe retries: the first response to a user's Idempotency-Key is stored in the same transaction
// as the work it reports, so a client that lost the response (or got an ambiguous commit) can
// send the request again and receive that response instead of acting twice.
import { createHash } from 'node:crypto';
import { and, eq, gt, lte } from 'drizzle-orm';
import { type Queryable, type Transaction, executorOf } from '../db/connect.ts';
import { idempotencyKeys } from '../db/schema.ts';
import { ValidationError, domainError } from './errors.ts';
import type { UserRef } from './users.ts';

export const IDEMPOTENCY_KEY_LIFETIME_MS = 24 * 60 * 60 * 1000;
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export interface IdempotentRequest {
  readonly user: UserRef;
  readonly key: string;
  /** A digest of what the request asks for; the same key with another request is refused. */
  readonly requestHash: string;
}

export interface StoredResponse {
  readonly statusCode: number;
  readonly body: unknown;
}

/** Builds the request's identity; ValidationError for a malformed key. */
export function idempotentRequest(user: UserRef, key: string, operation: string, body: unknown): IdempotentRequest {
  if (!KEY_PATTERN.test(key)) {
    throw ValidationError.field('Idempotency-Key', 'An Idempotency-Key is 1 to 255 visible ASCII characters.');
  }
  const requestHash = createHash('sha256').update(operation).update('\0').update(JSON.stringify(body ?? null)).digest('hex');
  return { user, key, requestHash };
}

/** The stored first response to this key, if it is still fresh. */
export async function storedResponse(
  db: Queryable,
  request: IdempotentRequest,
  now: Date = new Date(),
): Promise<StoredResponse | undefined> {
  const [row] = await executorOf(db)
    .select()
    .from(idempotencyKeys)
    .where(
      and(
        eq(idempotencyKeys.city, request.user.city),
        eq(idempotencyKeys.userId, request.user.id),
        eq(idempotencyKeys.key, request.key),
        gt(idempotencyKeys.expiresAt, now),
      ),
    )
    .limit(1);
  if (!row) return undefined;
  if (row.requestHash !== request.requestHash) throw domainError('idempotency_key_reused');
  return { statusCode: row.statusCode, body: row.response };
}

/** Inside the work's transaction: records its response under the key. */
export async function storeResponse(
  tx: Transaction,
  request: IdempotentRequest,
  response: StoredResponse,
  now: Date = new Date(),
): Promise<void> {
  const row = {
    requestHash: request.requestHash,
    statusCode: response.statusCode,
    response: response.body,
    createdAt: now,
    expiresAt: new Date(now.getTime() + IDEMPOTENCY_KEY_LIFETIME_MS),
  };
  // One statement: a new key, or an expired row of the same key made over; a live row of the
  // key (a concurrent request that won) is left alone, and this transaction must not commit.
  const stored = await tx
    .insert(idempotencyKeys)
    .values({ city: request.user.city, userId: request.user.id, key: request.key, ...row })
    .onConflictDoUpdate({
      target: [idempotencyKeys.city, idempotencyKeys.userId, idempotencyKeys.key],
      set: row,
      setWhere: lte(idempotencyKeys.expiresAt, now),
    })
    .returning({ key: idempotencyKeys.key });
  if (stored.length === 0) throw new KeyTakenError();
}

/** A concurrent request with the same Idempotency-Key stored its response first. */
export class KeyTakenError extends Error {
  constructor() {
    super('The Idempotency-Key was taken by a concurrent request');
    this.name = 'KeyTakenError';
  }
}
