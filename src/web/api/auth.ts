// POST /auth/register, /auth/login, /auth/logout.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { issueToken, revokeToken } from '../../movr/api-tokens.ts';
import { logIn, signUp } from '../../movr/users.ts';
import { logOut } from '../plugins/auth.ts';
import { LOGIN_RATE_LIMIT, byIpAndField, rateLimit } from '../plugins/rate-limit.ts';
import { SECURED, callerOf, withApiFieldNames } from './common.ts';
import { LoginBody, LoginResponse, NoContent, UserEnvelope, registerBody, responses, toApiUser } from './schemas.ts';

export const authRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db, regions, keys } = app;
  app.post(
    '/auth/register',
    {
      schema: {
        tags: ['auth'],
        summary: 'Create an account',
        description: 'Creates a user with log-in credentials in their home city. Log in afterwards to get a token.',
        body: registerBody(regions),
        response: responses({ 201: UserEnvelope.describe('The new user.') }, [409]),
      },
    },
    async (request, reply) => {
      const body = request.body;
      const user = await withApiFieldNames({ cardNumber: 'card_number' }, 'body', () =>
        signUp(db, {
          username: body.username,
          password: body.password,
          name: body.name,
          city: body.city,
          address: body.address,
          cardNumber: body.card_number,
        }, { regions }),
      );
      return reply.code(201).send({ user: toApiUser(user) });
    },
  );

  app.post(
    '/auth/login',
    {
      config: rateLimit({ ...LOGIN_RATE_LIMIT, key: byIpAndField('username') }),
      schema: {
        tags: ['auth'],
        summary: 'Log in: get a bearer token',
        description: `Returns a signed token that expires after a day. At most ${LOGIN_RATE_LIMIT.max} attempts per IP address and username every ${LOGIN_RATE_LIMIT.timeWindow}.`,
        body: LoginBody,
        response: responses({ 200: LoginResponse.describe('A token, and who it belongs to.') }, [401]),
      },
    },
    async (request) => {
      const user = await logIn(db, request.body.username, request.body.password);
      const issued = await issueToken(db, user, keys.token);
      return { token: issued.token, token_type: 'Bearer' as const, expires_at: issued.expiresAt.toISOString(), user: toApiUser(user) };
    },
  );

  app.post(
    '/auth/logout',
    {
      schema: {
        tags: ['auth'],
        summary: 'Log out: revoke the token',
        description: 'Revokes the bearer token the request was made with; with the session cookie, ends the session.',
        security: SECURED,
        response: responses({ 204: NoContent('Logged out.') }, [401, 403]),
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      if (caller.via === 'token' && caller.tokenId) await revokeToken(db, { city: caller.city, id: caller.id, tokenId: caller.tokenId });
      else logOut(request);
      return reply.code(204).send();
    },
  );
};
