// Rendering pages, and flash messages.
//
//   reply.page(template, data)     renders views/<template>.eta in the layout, with the context
//                                  every page needs merged in (see PageContext), as text/html
//   reply.flash(kind, message)     a message for the next page rendered for this session (after
//                                  a redirect, typically); shown once, then gone
//
// Templates see `it.currentUser`, `it.csrfToken` and `it.flash` besides their own data; a form
// includes the token with `<%~ include('./partials/csrf') %>`.
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { FlashKind, FlashMessage, SessionUser } from './sessions.ts';

/** What every page template gets, besides its own data. */
export interface PageContext {
  currentUser: SessionUser | undefined;
  /** For the hidden `_csrf` field of every form that POSTs. */
  csrfToken: string | undefined;
  /** Flash messages to show on this page (consumed: they are not shown again). */
  flash: FlashMessage[];
}

export type PageData = Record<string, unknown>;

declare module 'fastify' {
  interface FastifyReply {
    /** Renders a page (see page.ts) and sends it; `return reply.page('rides', { rides })`. */
    page(template: string, data?: PageData): Promise<FastifyReply>;
    /** Queues a message for the next page rendered; `return reply.flash('success', 'Saved.').redirect('/x', 303)`. */
    flash(kind: FlashKind, message: string): FastifyReply;
  }
}

const FLASH_KINDS: ReadonlySet<string> = new Set<FlashKind>(['success', 'info', 'error']);
/** A session is a cookie: keep the queue short. */
const MAX_FLASH_MESSAGES = 5;
const MAX_FLASH_LENGTH = 500;

function isFlashMessage(value: unknown): value is FlashMessage {
  if (typeof value !== 'object' || value === null) return false;
  const { kind, message } = value as Record<string, unknown>;
  return typeof kind === 'string' && FLASH_KINDS.has(kind) && typeof message === 'string';
}

type MaybeSession = FastifyRequest['session'] | null | undefined;

/**
 * The context of a page rendered for this request. Takes the flash messages out of the session,
 * and creates the session's CSRF secret if it has none yet. Never throws: an error page must
 * render even when the session could not be read.
 */
export function pageContext(request: FastifyRequest, reply: FastifyReply): PageContext {
  const session = request.session as MaybeSession;
  if (!session) return { currentUser: undefined, csrfToken: undefined, flash: [] };
  let flash: FlashMessage[] = [];
  const stored: unknown = session.get('flash');
  if (stored !== undefined) {
    flash = Array.isArray(stored) ? stored.filter(isFlashMessage) : [];
    session.set('flash', undefined);
  }
  let csrfToken: string | undefined;
  try {
    csrfToken = reply.generateCsrf();
  } catch (error) {
    request.log.warn({ err: error }, 'could not create a CSRF token');
  }
  return { currentUser: request.currentUser, csrfToken, flash };
}

/** Installs reply.page() and reply.flash(). */
export const pagesPlugin = fp(async (app) => {
  app.decorateReply('page', async function page(this: FastifyReply, template: string, data: PageData = {}) {
    const html = await this.viewAsync(template, { ...pageContext(this.request, this), ...data });
    // Pages carry a CSRF token and, once logged in, personal data: never cache them.
    this.header('cache-control', 'no-store');
    return this.type('text/html; charset=utf-8').send(html);
  });

  app.decorateReply('flash', function flash(this: FastifyReply, kind: FlashKind, message: string) {
    if (!FLASH_KINDS.has(kind)) throw new TypeError(`unknown flash kind: ${String(kind)}`);
    const session = this.request.session;
    const stored: unknown = session.get('flash');
    const queue = Array.isArray(stored) ? stored.filter(isFlashMessage) : [];
    queue.push({ kind, message: message.slice(0, MAX_FLASH_LENGTH) });
    session.set('flash', queue.slice(-MAX_FLASH_MESSAGES));
    return this;
  });
}, { name: 'movr-pages', dependencies: ['movr-sessions', 'movr-auth', 'movr-csrf'] });
