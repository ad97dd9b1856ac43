// Sessions: one encrypted, authenticated cookie (@fastify/secure-session), `movr_session`.
//
// The cookie holds who is logged in with the token of their server-side session (checked on each
// request by plugins/auth.ts against the `sessions` table, so it can be ended on the server), the
// CSRF secret and flash messages. It is encrypted and authenticated with a 32-byte key derived (HKDF-SHA256)
// from the app's secret key, so a tampered or foreign cookie decodes to nothing and the request
// simply has an empty session.
//
// A session lasts SESSION_MAX_AGE_SECONDS (7 days) after the last activity: the cookie's Max-Age
// says so to the browser, and the session data itself carries `expiresAt`, so an old cookie a
// client kept anyway is refused here too. Activity slides the expiry forward, at most once per
// SESSION_REFRESH_SECONDS (1 hour), so that not every request re-issues the cookie.
import { hkdfSync } from 'node:crypto';
import fastifySecureSession from '@fastify/secure-session';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

export const SESSION_COOKIE = 'movr_session';
export const SESSION_MAX_AGE_SECONDS = 7 * 24 * 60 * 60;
export const SESSION_REFRESH_SECONDS = 60 * 60;
/** Key in the session where @fastify/csrf-protection keeps its secret. */
export const CSRF_SESSION_KEY = '_csrf';

/** Who is logged in: enough to load the user (users are keyed by city and id). */
export interface SessionUser {
  readonly id: string;
  readonly city: string;
  /** Who the header says is logged in (the username); absent in sessions from before it was kept. */
  readonly username?: string;
}

export type FlashKind = 'success' | 'info' | 'error';

export interface FlashMessage {
  readonly kind: FlashKind;
  readonly message: string;
}

declare module '@fastify/secure-session' {
  interface SessionData {
    user: SessionUser;
    /** The session's token (see src/movr/sessions.ts): only its hash is stored on the server. */
    sid: string;
    flash: FlashMessage[];
    /** Milliseconds since the epoch after which the session is refused. */
    expiresAt: number;
    /** The CSRF secret (@fastify/csrf-protection). */
    _csrf: string;
  }
}

/** The 32-byte encryption key for session cookies, derived from the app's secret key. */
export function deriveSessionKey(secretKey: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secretKey, 'movr-session-salt', 'movr session cookie v1', 32));
}

/** True when the session holds anything worth keeping (a CSRF secret, a user, a flash). */
function hasContent(request: FastifyRequest): boolean {
  const data = request.session.data() as Record<string, unknown> | undefined;
  if (!data) return false;
  return Object.entries(data).some(([key, value]) => key !== 'expiresAt' && value !== undefined);
}

/**
 * Sessions on every request (`request.session`), keyed by app.keys.session; the cookie is
 * Secure in production (the site is served over HTTPS there).
 */
export const sessionsPlugin = fp(async (app) => {
  const maxAgeMs = SESSION_MAX_AGE_SECONDS * 1000;
  const refreshMs = SESSION_REFRESH_SECONDS * 1000;

  // Runs before secure-session's own onSend hook (registered below), which writes the cookie:
  // every session that is written carries a fresh expiry, and an emptied one is deleted.
  app.addHook('onSend', async (request: FastifyRequest, _reply: FastifyReply, payload: unknown) => {
    const session = request.session as FastifyRequest['session'] | null;
    if (!session || !session.changed || session.deleted) return payload;
    if (!hasContent(request)) {
      session.delete();
      return payload;
    }
    const expiresAt = session.get('expiresAt');
    const current = Date.now();
    if (typeof expiresAt !== 'number' || expiresAt - current < maxAgeMs - refreshMs) {
      session.set('expiresAt', current + maxAgeMs);
    }
    return payload;
  });

  await app.register(fastifySecureSession, {
    key: app.keys.session,
    cookieName: SESSION_COOKIE,
    // secure-session's own limit, counted from the last change; expiresAt is ours.
    expiry: SESSION_MAX_AGE_SECONDS,
    cookie: {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: app.config.nodeEnv === 'production',
      maxAge: SESSION_MAX_AGE_SECONDS,
    },
  });

  // After secure-session decoded the cookie: refuse expired data, slide the expiry forward.
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const session = request.session as FastifyRequest['session'] | null;
    if (!session || !hasContent(request)) return;
    const expiresAt = session.get('expiresAt');
    const current = Date.now();
    if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt) || expiresAt <= current) {
      request.log.debug('session expired: starting a new one');
      session.regenerate();
      return;
    }
    if (expiresAt - current < maxAgeMs - refreshMs && !request.url.startsWith('/static/')) {
      session.set('expiresAt', current + maxAgeMs);
    }
  });
}, { name: 'movr-sessions', dependencies: ['movr-context'] });
