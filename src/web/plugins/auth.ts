// Who is logged in, and the guards for pages that need a user.
//
//   request.currentUser        { id, city } of the logged-in user, or undefined
//   userOf(request)            the same, for handlers behind requireUser (throws 401 if none)
//   requireUser                preHandler: without a user, pages redirect (303) to
//                              /login?next=<where the visitor wanted to go>, JSON clients get 401
//   logIn(request, user)       starts a new session for the user (never reuses the old one)
//   logOut(request)            ends the session
//   safeNextPath(value)        the `next` value to honour after logging in, or undefined
//
// Passwords are checked by the domain (authenticate in src/movr/users.ts), not here.
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { wantsJson } from '../errors.ts';
import type { SessionUser } from './sessions.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The logged-in user, read from the session; undefined for visitors. */
    readonly currentUser: SessionUser | undefined;
  }
}

export const LOGIN_PATH = '/login';
const MAX_NEXT_LENGTH = 2000;

/** Installs request.currentUser. */
export const authPlugin = fp(
  async (app) => {
    app.decorateRequest('currentUser', {
      getter(this: FastifyRequest): SessionUser | undefined {
        return sessionUser(this);
      },
    });
  },
  { name: 'movr-auth', dependencies: ['movr-sessions'] },
);

function sessionUser(request: FastifyRequest): SessionUser | undefined {
  const session = request.session as FastifyRequest['session'] | null | undefined;
  const user: unknown = session?.get('user');
  if (typeof user !== 'object' || user === null) return undefined;
  const { id, city } = user as Record<string, unknown>;
  if (typeof id !== 'string' || typeof city !== 'string' || id === '' || city === '') return undefined;
  return { id, city };
}

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
 * may have planted before the login) is dropped and a new session holds only the user.
 * Call reply.flash() afterwards if the next page should greet them.
 */
export function logIn(request: FastifyRequest, user: SessionUser): void {
  request.session.regenerate();
  request.session.set('user', { id: user.id, city: user.city });
}

/** Logs out: the session is emptied (its cookie is deleted unless a flash message is added). */
export function logOut(request: FastifyRequest): void {
  request.session.regenerate();
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
  return value;
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
export async function requireUser(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  if (request.currentUser) return undefined;
  if (wantsJson(request)) {
    throw Object.assign(new Error('Please log in to continue.'), { statusCode: 401 });
  }
  const asPage = request.method === 'GET' || request.method === 'HEAD';
  return reply.redirect(asPage ? loginPath(request.url) : LOGIN_PATH, 303);
}
