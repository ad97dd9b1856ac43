// GET, PATCH and DELETE /me: the caller's profile.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { deleteAccount, getUser, updateProfile } from '../../movr/users.ts';
import { logOut } from '../plugins/auth.ts';
import { SECURED, callerOf, withApiFieldNames } from './common.ts';
import { NoContent, ProfileChangesBody, UserEnvelope, responses, toApiUser } from './schemas.ts';

export const meRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db } = app;
  app.get(
    '/me',
    {
      schema: {
        tags: ['me'],
        summary: 'Your profile',
        security: SECURED,
        response: responses({ 200: UserEnvelope.describe('The caller.') }, [401, 404]),
      },
    },
    async (request) => {
      const caller = callerOf(request);
      return { user: toApiUser(await getUser(db, caller)) };
    },
  );

  app.patch(
    '/me',
    {
      schema: {
        tags: ['me'],
        summary: 'Change your name, address or card',
        security: SECURED,
        body: ProfileChangesBody,
        response: responses({ 200: UserEnvelope.describe('The changed profile.') }, [401, 403, 404]),
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const body = request.body;
      const user = await withApiFieldNames({ cardNumber: 'card_number' }, 'body', () =>
        updateProfile(db, caller, { name: body.name, address: body.address, cardNumber: body.card_number }),
      );
      return { user: toApiUser(user) };
    },
  );

  app.delete(
    '/me',
    {
      schema: {
        tags: ['me'],
        summary: 'Delete your account',
        description:
          'Erases your personal details, credentials and promo codes, retires your vehicles and revokes every token. ' +
          'Your past rides stay, anonymous. Refused (409 `ride_open`) while you have an open ride.',
        security: SECURED,
        response: responses({ 204: NoContent('The account is deleted.') }, [401, 403, 404, 409]),
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      // Its tokens go with the account.
      await deleteAccount(db, caller);
      if (caller.via === 'session') await logOut(request);
      return reply.code(204).send();
    },
  );
};
