// Bearer tokens for the JSON API.
//
// A token is `movr_<payload>.<signature>`: the payload (token id, user, expiry) is signed with
// HMAC-SHA256 under a key derived from the server's secret, so a forged or altered token is
// refused without a database read. The api_tokens row lets a token be revoked before it expires.
import { createHmac, hkdfSync, randomUUID, timingSafeEqual } from 'node:crypto';
import { and, eq, isNull, lt, sql } from 'drizzle-orm';
import type { Database, Queryable } from '../db/connect.ts';
import { preparedOnce } from '../db/prepared.ts';
import { apiTokens } from '../db/schema.ts';
import { runTransaction } from '../db/transaction.ts';
import { domainError } from './errors.ts';
import type { UserRef } from './users.ts';

export const TOKEN_LIFETIME_MS = 24 * 60 * 60 * 1000;

interface TokenPayload {
  /** token id */
  t: string;
  /** user's city */
  c: string;
  /** user id */
  u: string;
  /** expiry, seconds since the epoch */
  e: number;
}

export interface IssuedToken {
  token: string;
  expiresAt: Date;
}

export interface TokenOwner extends UserRef {
  readonly tokenId: string;
}

/** The signing key, derived from the server secret so it is never the session key itself. */
export function tokenSigningKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'movr-api-tokens', 'movr api token signing key v1', 32));
}

function sign(key: Buffer, payload: string): string {
  return createHmac('sha256', key).update(payload).digest('base64url');
}

export async function issueToken(
  db: Database,
  user: UserRef,
  key: Buffer,
  options: { now?: Date; lifetimeMs?: number } = {},
): Promise<IssuedToken> {
  const now = options.now ?? new Date();
  const expiresAt = new Date(now.getTime() + (options.lifetimeMs ?? TOKEN_LIFETIME_MS));
  const id = randomUUID();
  await runTransaction(db, 'issue_token', async (tx) => {
    // Expired tokens are useless; clearing them here keeps the table from growing forever.
    await tx
      .delete(apiTokens)
      .where(and(eq(apiTokens.city, user.city), eq(apiTokens.userId, user.id), lt(apiTokens.expiresAt, now)));
    await tx.insert(apiTokens).values({ city: user.city, userId: user.id, id, createdAt: now, expiresAt });
  });
  const payload: TokenPayload = { t: id, c: user.city, u: user.id, e: Math.floor(expiresAt.getTime() / 1000) };
  const encoded = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return { token: `movr_${encoded}.${sign(key, encoded)}`, expiresAt };
}

const invalidToken = () => domainError('invalid_token', { malformed: false });

/** Checks signature and expiry; no database read. */
function decode(token: string, key: Buffer, now: Date): TokenPayload {
  const match = /^movr_([A-Za-z0-9_-]{1,1000})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match?.[1] || !match[2]) throw invalidToken();
  const expected = Buffer.from(sign(key, match[1]));
  const given = Buffer.from(match[2]);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw invalidToken();
  let payload: TokenPayload;
  try {
    payload = JSON.parse(Buffer.from(match[1], 'base64url').toString('utf8')) as TokenPayload;
  } catch {
    throw invalidToken();
  }
  if (typeof payload.e !== 'number' || payload.e * 1000 <= now.getTime()) throw invalidToken();
  return payload;
}

/** The row of an unrevoked token: read on every authenticated API request, so prepared once. */
function tokenLookup(db: Queryable) {
  return preparedOnce(db, 'movr_token', (executor, name) =>
    executor
      .select({ id: apiTokens.id })
      .from(apiTokens)
      .where(
        and(
          eq(apiTokens.city, sql.placeholder('city')),
          eq(apiTokens.userId, sql.placeholder('userId')),
          eq(apiTokens.id, sql.placeholder('id')),
          isNull(apiTokens.revokedAt),
        ),
      )
      .limit(1)
      .prepare(name),
  );
}

/** The owner of a valid, unrevoked, unexpired token; AuthenticationError('invalid_token') otherwise. */
export async function verifyToken(db: Queryable, token: string, key: Buffer, options: { now?: Date } = {}): Promise<TokenOwner> {
  const payload = decode(token, key, options.now ?? new Date());
  const [row] = await tokenLookup(db).execute({ city: payload.c, userId: payload.u, id: payload.t });
  if (!row) throw invalidToken();
  return { city: payload.c, id: payload.u, tokenId: payload.t };
}

export async function revokeToken(db: Database, owner: TokenOwner, options: { now?: Date } = {}): Promise<void> {
  await runTransaction(db, 'revoke_token', async (tx) => {
    await tx
      .update(apiTokens)
      .set({ revokedAt: options.now ?? new Date() })
      .where(and(eq(apiTokens.city, owner.city), eq(apiTokens.userId, owner.id), eq(apiTokens.id, owner.tokenId)));
  });
}

/** Revokes every token of the user that is not revoked yet (e.g. when the account is deleted). */
export async function revokeAllTokens(db: Database, user: UserRef, options: { now?: Date } = {}): Promise<void> {
  await runTransaction(db, 'revoke_all_tokens', async (tx) => {
    await tx
      .update(apiTokens)
      .set({ revokedAt: options.now ?? new Date() })
      .where(and(eq(apiTokens.city, user.city), eq(apiTokens.userId, user.id), isNull(apiTokens.revokedAt)));
  });
}
