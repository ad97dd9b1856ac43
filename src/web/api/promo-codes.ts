// Promo codes: the active ones, and the caller's.
//
//   GET  /promo-codes?limit=&cursor=   active promo codes, in code order
//   POST /me/promo-codes               adds a code to the caller's account
//   GET  /me/promo-codes               the caller's codes, with how often each was used
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { addPromoCode, listActivePromoCodes, listUserPromoCodes } from '../../movr/promo-codes.ts';
import { SECURED, callerOf, withApiFieldNames } from './common.ts';
import {
  AddPromoCodeBody,
  PromoCodeQuery,
  PromoCodePage,
  UserPromoCodeEnvelope,
  UserPromoCodeList,
  responses,
  toApiPromoCode,
  toApiUserPromoCode,
} from './schemas.ts';

export const promoCodesRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db } = app;
  app.get(
    '/promo-codes',
    {
      schema: {
        tags: ['promo-codes'],
        summary: 'Active promo codes',
        description:
          'Listed codes that can be used now, in code order, a page at a time; with `city`, only those that apply there. With MOVR_FOLLOWER_READS=1 on CockroachDB the ' +
          'list may be a few seconds stale (follower reads).',
        querystring: PromoCodeQuery,
        response: responses({ 200: PromoCodePage.describe('A page of promo codes.') }),
      },
    },
    async (request) => {
      const { limit, cursor, city } = request.query;
      const result = await listActivePromoCodes(db, { limit, cursor, city, asOf: app.staleReads });
      return { items: result.items.map(toApiPromoCode), next_cursor: result.nextCursor };
    },
  );

  app.post(
    '/me/promo-codes',
    {
      schema: {
        tags: ['promo-codes', 'me'],
        summary: 'Add a promo code to your account',
        description:
          'Your rides then get the best discount among your valid codes. 404 `promo_code_not_found`; 409 ' +
          '`promo_code_already_added`, `promo_code_expired` or `promo_code_not_active`.',
        security: SECURED,
        body: AddPromoCodeBody,
        response: responses({ 201: UserPromoCodeEnvelope.describe('The code, as added.') }, [401, 403, 404, 409]),
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const added = await withApiFieldNames({}, 'body', () => addPromoCode(db, caller, request.body.code));
      return reply.code(201).send({ promo_code: toApiUserPromoCode(added) });
    },
  );

  app.get(
    '/me/promo-codes',
    {
      schema: {
        tags: ['promo-codes', 'me'],
        summary: 'Your promo codes',
        description: 'Newest first, with how many rides each has discounted and whether it has expired.',
        security: SECURED,
        response: responses({ 200: UserPromoCodeList.describe('The caller’s promo codes.') }, [401]),
      },
    },
    async (request) => {
      const caller = callerOf(request);
      return { items: (await listUserPromoCodes(db, caller)).map(toApiUserPromoCode) };
    },
  );
};
