// POST /auth/register, /auth/login, /auth/logout.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { issueToken, revokeToken } from '../../movr/api-tokens.ts';
import { logIn, signUp } from '../../movr/users.ts';
import { logOut } from '../plugins/auth.ts';
import { LOGIN_ATTEMPTS_PER_ADDRESS, LOGIN_FAILURES_PER_USERNAME, SIGN_UPS_PER_ADDRESS } from '../../movr/rules.ts';
import { SECURED, callerOf, withApiFieldNames } from './common.ts';
import { LoginBody, LoginResponse, NoContent, UserEnvelope, registerBody, responses, toApiUser } from './schemas.ts';

const minutes = (seconds: number) => `${Math.round(seconds / 60)} minutes`;

export const authRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db, regions, keys } = app;
  app.post(
    '/auth/register',
    {
      schema: {
        tags: ['auth'],
        summary: 'Create an account',
        description:
          'Creates a user with log-in credentials in their home city. Log in afterwards to get a token. ' +
          `At most ${SIGN_UPS_PER_ADDRESS.max} sign-ups per client address every ${minutes(SIGN_UPS_PER_ADDRESS.windowSeconds)} (429 \`too_many_requests\`).`,
        body: registerBody(regions),
        response: responses({ 201: UserEnvelope.describe('The new user.') }, [409]),
      },
    },
    async (request, reply) => {
      const body = request.body;
      const user = await withApiFieldNames({ cardNumber: 'card_number' }, 'body', () =>
        app.loginLimiter.signUp(request.ip, () => signUp(db, {
          username: body.username,
          password: body.password,
          name: body.name,
          city: body.city,
          address: body.address,
          cardNumber: body.card_number,
        }, { regions })),
      );
      return reply.code(201).send({ user: toApiUser(user) });
    },
  );

  app.post(
    '/auth/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Log in: get a bearer token',
        description:
          `Returns a signed token that expires after a day. Limits, shared with the web site's log-in: ${LOGIN_FAILURES_PER_USERNAME.max} failed attempts per username ` +
          `every ${minutes(LOGIN_FAILURES_PER_USERNAME.windowSeconds)}, ${LOGIN_ATTEMPTS_PER_ADDRESS.max} attempts per client address every ${minutes(LOGIN_ATTEMPTS_PER_ADDRESS.windowSeconds)} (429 \`too_many_requests\`); ` +
          '503 `busy` with Retry-After while too many passwords are being checked.',
        body: LoginBody,
        response: responses({ 200: LoginResponse.describe('A token, and who it belongs to.') }, [401]),
      },
    },
    async (request) => {
      const { username, password } = request.body;
      const user = await app.loginLimiter.logIn(request.ip, username, () => logIn(db, username, password));
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
      else await logOut(request);
      return reply.code(204).send();
    },
  );
};
