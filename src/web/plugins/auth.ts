// Who is logged in, and the guards for pages that need a user.
//
//   request.currentUser        { id, city } of the logged-in user, or undefined
//   request.currentSessionId   the id of the session the request came with (sessions.id), or undefined
//   userOf(request)            the same, for handlers behind requireUser (throws 401 if none)
//   requireUser                preHandler: without a user, pages redirect (303) to
//                              /login?next=<where the visitor wanted to go>, JSON clients get 401
//   await logIn(request, user) starts a new session for the user (never reuses the old one)
//   await logOut(request)      ends the session, on the server too
//   safeNextPath(value)        the `next` value to honour after logging in, or undefined
//
// The cookie names the user and carries the session's token; an onRequest hook checks the token
// against the `sessions` table (one primary-key read, src/movr/sessions.ts) before any route
// runs, so a session ended on the server (log-out, another device, a password change, a deleted
// account) is a visitor's from the next request on. Requests without a user in the cookie
// (visitors) and static files cost no read.
//
// Passwords are checked by the domain (authenticate in src/movr/users.ts), not here.
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { checkSession, createSession, endSession } from '../../movr/sessions.ts';
import { wantsJson } from '../errors.ts';
import type { SessionUser } from './sessions.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The logged-in user, read from the session; undefined for visitors. */
    readonly currentUser: SessionUser | undefined;
    /** The id of the request's session (see src/movr/sessions.ts); undefined for visitors. */
    readonly currentSessionId: string | undefined;
    /** The checked session: set by the hook below and by logIn. */
    movrSession: { user: SessionUser; id: string } | null;
  }
}

/** Paths that never need to know who is asking: no session read. */
const ANONYMOUS_PATHS = /^\/(static\/|healthz$|readyz$)/;

/** Installs request.currentUser and the session check. */
export const authPlugin = fp(
  async (app) => {
    app.decorateRequest('movrSession', null);
    app.decorateRequest('currentUser', {
      getter(this: FastifyRequest): SessionUser | undefined {
        return this.movrSession?.user;
      },
    });
    app.decorateRequest('currentSessionId', {
      getter(this: FastifyRequest): string | undefined {
        return this.movrSession?.id;
      },
    });
    app.addHook('onRequest', async (request) => {
      const user = cookieUser(request);
      if (!user || ANONYMOUS_PATHS.test(request.url)) return;
      const token: unknown = request.session.get('sid');
      const id = typeof token === 'string' && token !== '' ? await checkSession(app.db, user, token) : undefined;
      if (id === undefined) {
        // Ended on the server, expired, or a cookie from before sessions were kept: a visitor.
        request.log.debug('session not found: starting a new one');
        request.session.regenerate();
        return;
      }
      request.movrSession = { user, id };
    });
  },
  { name: 'movr-auth', dependencies: ['movr-sessions', 'movr-context'] },
);

function cookieUser(request: FastifyRequest): SessionUser | undefined {
  const session = request.session as FastifyRequest['session'] | null | undefined;
  const user: unknown = session?.get('user');
  if (typeof user !== 'object' || user === null) return undefined;
  const { id, city, username } = user as Record<string, unknown>;
  if (typeof id !== 'string' || typeof city !== 'string' || id === '' || city === '') return undefined;
  return typeof username === 'string' && username !== '' ? { id, city, username } : { id, city };
}

export const LOGIN_PATH = '/login';
const MAX_NEXT_LENGTH = 2000;

/**
 * The logged-in user, in a handler behind requireUser (where there always is one): saves a
 * non-null assertion. Throws a 401 if there is none after all.
 */
export function userOf(request: FastifyRequest): SessionUser {
  const user = request.currentUser;
  if (!user) throw Object.assign(new Error('Please log in to continue.'), { statusCode: 401 });
  return user;
}

/**
 * Logs the user in: the old session's data (CSRF secret, flash messages, anything an attacker
 * may have planted before the login) is dropped, a new server-side session is started and the
 * cookie holds only the user and its token. Call reply.flash() afterwards if the next page
 * should greet them.
 */
export async function logIn(request: FastifyRequest, user: SessionUser): Promise<void> {
  const { db } = request.server;
  const ref = { id: user.id, city: user.city };
  const session = await createSession(db, ref, { userAgent: request.headers['user-agent'], address: request.ip });
  request.session.regenerate();
  // The username rides along in the cookie, so the header can say who is logged in without a read.
  const named = user.username ? { ...ref, username: user.username } : ref;
  request.session.set('user', named);
  request.session.set('sid', session.token);
  request.movrSession = { user: named, id: session.id };
}

/** Logs out: the session is ended on the server and emptied in the cookie (which is deleted unless a flash message is added). */
export async function logOut(request: FastifyRequest): Promise<void> {
  const current = request.movrSession;
  request.movrSession = null;
  request.session.regenerate();
  if (current) await endSession(request.server.db, current.user, current.id);
}

/**
 * A `next` value that is safe to redirect to after logging in: a path on this site ("/rides?page=2"),
 * never another site. Refuses "//evil.example" and "/\evil.example" (protocol-relative: browsers
 * treat a backslash like a slash), "https://evil.example", "javascript:…", and anything with
 * control characters or whitespace.
 */
export function safeNextPath(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_NEXT_LENGTH) return undefined;
  if (!value.startsWith('/')) return undefined;
  if (value.startsWith('//') || value.startsWith('/\\')) return undefined;
  // Control characters, spaces and backslashes have no place in a path we produced ourselves.
  if (/[\u0000-\u0020\u007f\\]/.test(value)) return undefined;
  // Belt and braces: resolved against this site, it must stay on this site.
  try {
    const base = 'http://movr.invalid';
    if (new URL(value, base).origin !== base) return undefined;
  } catch {
    return undefined;
  }
  // Characters beyond ASCII percent-encoded: a Location header carries bytes, and Node refuses
  // characters above U+00FF in one (ERR_INVALID_CHAR). A lone surrogate cannot be encoded: refused.
  try {
    return value.replace(/[^\u0000-\u007f]+/gu, (text) => encodeURIComponent(text));
  } catch {
    return undefined;
  }
}

/** The login page's address, remembering where to go afterwards when that is safe. */
export function loginPath(next?: string): string {
  const safe = safeNextPath(next);
  return safe === undefined || safe === '/' ? LOGIN_PATH : `${LOGIN_PATH}?next=${encodeURIComponent(safe)}`;
}

/**
 * preHandler for pages that need a logged-in user. A visitor is sent (303) to the login page
 * with `next` set to the page asked for; after a form POST (whose address is not a page) to the
 * login page alone. JSON clients get 401.
 */
/** What the log-in page says to a visitor sent there by requireUser. */
export const LOGIN_NEEDED_MESSAGE = 'Please log in to continue: that page needs your account.';

export async function requireUser(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  if (request.currentUser) return undefined;
  if (wantsJson(request)) {
    throw Object.assign(new Error('Please log in to continue.'), { statusCode: 401 });
  }
  const asPage = request.method === 'GET' || request.method === 'HEAD';
  // The log-in page says why the visitor is there.
  reply.flash('info', LOGIN_NEEDED_MESSAGE);
  return reply.redirect(asPage ? loginPath(request.url) : LOGIN_PATH, 303);
}
