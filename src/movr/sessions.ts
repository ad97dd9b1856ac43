// The web site's sessions, kept on the server so that they can be ended there.
//
// Logging in makes a random token (32 bytes, base64url) that only the browser's encrypted
// cookie holds; the `sessions` row is keyed by the user and the token's SHA-256, so the table
// alone logs no one in. A request with a session costs one primary-key read; a session in use
// slides forward (last_seen_at, expires_at) at most once per SESSION_TOUCH_INTERVAL_MS, so a busy
// browser writes once a minute rather than once a request. Ending a session deletes its row:
// the next request with that cookie is a visitor's. See docs/decisions/0014-server-side-sessions.md.
import { createHash, randomBytes } from 'node:crypto';
import { and, desc, eq, gt, ne, sql } from 'drizzle-orm';
import { type Database, type Queryable, type Transaction, executorOf } from '../db/connect.ts';
import { preparedOnce } from '../db/prepared.ts';
import { sessions } from '../db/schema.ts';
import { runTransaction } from '../db/transaction.ts';
import type { UserRef } from './users.ts';

/** A session lasts this long after it was last used. */
export const SESSION_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;
/** last_seen_at and expires_at are written at most this often per session. */
export const SESSION_TOUCH_INTERVAL_MS = 60 * 1000;
/** How much of the User-Agent header is kept. */
const USER_AGENT_MAX_LENGTH = 200;

export interface SessionClient {
  /** The User-Agent header, if any. */
  readonly userAgent?: string | undefined;
  /** The client's address. */
  readonly address?: string | undefined;
}

export interface NewSession {
  /** Goes into the cookie, and nowhere else. */
  readonly token: string;
  /** The row's id: the token's hash. */
  readonly id: string;
  readonly expiresAt: Date;
}

export interface SessionInfo {
  readonly id: string;
  readonly createdAt: Date;
  readonly lastSeenAt: Date;
  readonly expiresAt: Date;
  readonly userAgent: string | null;
  readonly address: string | null;
}

/** A session's id: the SHA-256 of its token, base64url. */
export function sessionId(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** Session look-ups made by this process (each one read of `sessions`): for tests and diagnostics. */
export const sessionLookups = { count: 0 };

/** Starts a session for the user; the token is for the cookie. */
export async function createSession(db: Database, user: UserRef, client: SessionClient = {}, now = new Date()): Promise<NewSession> {
  const token = randomBytes(32).toString('base64url');
  const id = sessionId(token);
  const expiresAt = new Date(now.getTime() + SESSION_LIFETIME_MS);
  await runTransaction(db, 'create_session', async (tx) => {
    // Expired sessions of this user go now; housekeeping clears the rest.
    await tx.delete(sessions).where(and(eq(sessions.city, user.city), eq(sessions.userId, user.id), sql`${sessions.expiresAt} <= ${now}`));
    await tx.insert(sessions).values({
      city: user.city,
      userId: user.id,
      id,
      createdAt: now,
      lastSeenAt: now,
      expiresAt,
      userAgent: client.userAgent?.slice(0, USER_AGENT_MAX_LENGTH) || null,
      address: client.address?.slice(0, 100) || null,
    });
  });
  return { token, id, expiresAt };
}

/** The one read of a request with a session: prepared once. */
function sessionLookup(db: Queryable) {
  return preparedOnce(db, 'movr_session', (executor, name) =>
    executor
      .select({ lastSeenAt: sessions.lastSeenAt, expiresAt: sessions.expiresAt })
      .from(sessions)
      .where(
        and(
          eq(sessions.city, sql.placeholder('city')),
          eq(sessions.userId, sql.placeholder('userId')),
          eq(sessions.id, sql.placeholder('id')),
        ),
      )
      .limit(1)
      .prepare(name),
  );
}

/**
 * Is this the token of a live session of the user? Slides the session forward when it was last
 * seen more than SESSION_TOUCH_INTERVAL_MS ago. Returns the session's id, or undefined.
 */
export async function checkSession(db: Database, user: UserRef, token: string, now = new Date()): Promise<string | undefined> {
  const id = sessionId(token);
  sessionLookups.count++;
  const [row] = await sessionLookup(db).execute({ city: user.city, userId: user.id, id });
  if (!row || row.expiresAt.getTime() <= now.getTime()) return undefined;
  if (now.getTime() - row.lastSeenAt.getTime() >= SESSION_TOUCH_INTERVAL_MS) {
    await runTransaction(db, 'touch_session', async (tx) => {
      await tx
        .update(sessions)
        .set({ lastSeenAt: now, expiresAt: new Date(now.getTime() + SESSION_LIFETIME_MS) })
        .where(and(eq(sessions.city, user.city), eq(sessions.userId, user.id), eq(sessions.id, id)));
    });
  }
  return id;
}

/** The user's live sessions, most recently used first. */
export async function listSessions(db: Queryable, user: UserRef, now = new Date()): Promise<SessionInfo[]> {
  const rows = await executorOf(db)
    .select({
      id: sessions.id,
      createdAt: sessions.createdAt,
      lastSeenAt: sessions.lastSeenAt,
      expiresAt: sessions.expiresAt,
      userAgent: sessions.userAgent,
      address: sessions.address,
    })
    .from(sessions)
    .where(and(eq(sessions.city, user.city), eq(sessions.userId, user.id), gt(sessions.expiresAt, now)))
    .orderBy(desc(sessions.lastSeenAt));
  return rows.map((row) => ({
    id: row.id,
    createdAt: row.createdAt,
    lastSeenAt: row.lastSeenAt,
    expiresAt: row.expiresAt,
    userAgent: row.userAgent,
    address: row.address,
  }));
}

/** Ends one of the user's sessions (nothing happens if it is not theirs or already ended). */
export async function endSession(db: Database, user: UserRef, id: string): Promise<boolean> {
  return runTransaction(db, 'end_session', async (tx) => {
    const ended = await tx
      .delete(sessions)
      .where(and(eq(sessions.city, user.city), eq(sessions.userId, user.id), eq(sessions.id, id)))
      .returning({ id: sessions.id });
    return ended.length > 0;
  });
}

/** Inside a transaction: ends all the user's sessions, or all but one (`keep`). */
export async function endAllSessions(tx: Transaction, user: UserRef, keep?: string): Promise<void> {
  const mine = and(eq(sessions.city, user.city), eq(sessions.userId, user.id));
  await tx.delete(sessions).where(keep === undefined ? mine : and(mine, ne(sessions.id, keep)));
}

/** Ends every session of the user but `keep` (the one asking). */
export async function endOtherSessions(db: Database, user: UserRef, keep: string | undefined): Promise<void> {
  await runTransaction(db, 'end_other_sessions', (tx) => endAllSessions(tx, user, keep));
}
