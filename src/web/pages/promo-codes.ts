// Promo codes: GET /promo-codes (the active codes, a page at a time, and the logged-in user's
// own codes) and POST /promo-codes (adds a code to the logged-in user's account).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DomainError, isDomainError } from '../../movr/errors.ts';
import { type PromoCode, type UserPromoCode, addPromoCode, listActivePromoCodes, listUserPromoCodes } from '../../movr/promo-codes.ts';
import { DEFAULT_PAGE_SIZE } from '../../movr/rules.ts';
import { STATUS_BY_DOMAIN_KIND } from '../errors.ts';
import { requireUser, userOf } from '../plugins/auth.ts';
import { type FormErrors, NO_FORM_ERRORS, formErrors } from '../forms.ts';
import { formatMoney } from './format.ts';

export const PROMO_PAGE_SIZE = DEFAULT_PAGE_SIZE;
const PROMO_PATH = '/promo-codes';

/** A page link's cursor (the last code of the previous page); anything odd means the first page. */
const cursorParam = z.string().min(1).max(200).optional().catch(undefined);

const listQuery = z.object({ cursor: cursorParam });

const addBody = z.object({
  code: z.string().max(1000).default(''),
  /** The page of the active list the "Add" button was on, to come back to it. */
  cursor: cursorParam,
});

function pagePath(cursor: string | undefined): string {
  return cursor ? `${PROMO_PATH}?cursor=${encodeURIComponent(cursor)}` : PROMO_PATH;
}

/** '25% off', '$2.50 off'; codes whose rules MovR does not understand give no discount. */
export function discountLabel(promo: Pick<PromoCode, 'discount'>): string {
  const discount = promo.discount;
  if (!discount) return 'No discount';
  return discount.kind === 'percent'
    ? `${discount.percent.toLocaleString('en-US', { maximumFractionDigits: 2 })}% off`
    : `${formatMoney(discount.cents)} off`;
}

export const promoCodesPlugin: FastifyPluginAsyncZod = async (app) => {
  const { db } = app;
  // MOVR_FOLLOWER_READS=1 on CockroachDB: the list of active codes may be a few seconds stale.
  const asOf = app.staleReads;
  async function renderPage(
    request: FastifyRequest,
    reply: FastifyReply,
    options: { cursor?: string | undefined; code?: string; errors: FormErrors },
  ): Promise<FastifyReply> {
    const user = request.currentUser;
    const now = new Date();
    const [active, mine] = await Promise.all([
      // A rider sees the listed codes that apply in their city.
      listActivePromoCodes(db, { cursor: options.cursor, limit: PROMO_PAGE_SIZE, now, asOf, city: user?.city }),
      user ? listUserPromoCodes(db, user, { now }) : Promise.resolve([] as UserPromoCode[]),
    ]);
    const added = new Set(mine.map((promo) => promo.code));
    return reply.page('promo-codes', {
      title: 'Promo codes',
      nav: 'promo-codes',
      cursor: options.cursor,
      active: active.items.map((promo) => ({ ...promo, discount: discountLabel(promo), added: added.has(promo.code) })),
      mine: mine.map((promo) => ({ ...promo, discount: discountLabel(promo) })),
      firstPage: options.cursor ? PROMO_PATH : undefined,
      nextPage: active.nextCursor ? pagePath(active.nextCursor) : undefined,
      loginHref: `/login?next=${encodeURIComponent(pagePath(options.cursor))}`,
      values: { code: options.code ?? '' },
      errors: options.errors,
    });
  }

  app.get(PROMO_PATH, { schema: { querystring: listQuery } }, async (request, reply) => {
    return renderPage(request, reply, { cursor: request.query.cursor, errors: NO_FORM_ERRORS });
  });

  app.post(PROMO_PATH, { preHandler: requireUser, schema: { body: addBody } }, async (request, reply) => {
    const user = userOf(request);
    const { code, cursor } = request.body;
    try {
      const promo = await addPromoCode(db, user, code);
      const discount = promo.discount ? ` You get ${discountLabel(promo)} your rides while it is valid.` : '';
      return reply.flash('success', `Promo code ${promo.code} added.${discount}`).redirect(pagePath(cursor), 303);
    } catch (error) {
      // A deleted account is the error handler's (it ends the session).
      if (error instanceof DomainError && !isDomainError(error, 'user_not_found')) {
        // Unknown, expired, not yet valid or already added: the form again, with the reason.
        const errors = formErrors([{ path: 'code', message: error.message }]);
        return renderPage(request, reply.code(STATUS_BY_DOMAIN_KIND[error.kind]), { cursor, code: code.trim(), errors });
      }
      throw error;
    }
  });
};
