// GET, PATCH and DELETE /me: the caller's profile; POST /me/password; GET /me/sessions and
// DELETE /me/sessions/{id}: the account's web site sessions.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { domainError } from '../../movr/errors.ts';
import { endSession, listSessions } from '../../movr/sessions.ts';
import { changePassword, deleteAccount, getUser, updateProfile } from '../../movr/users.ts';
import { logOut } from '../plugins/auth.ts';
import { SECURED, callerOf, withApiFieldNames } from './common.ts';
import {
  NoContent,
  PasswordChangeBody,
  ProfileChangesBody,
  SessionIdParams,
  SessionList,
  UserEnvelope,
  responses,
  toApiUser,
} from './schemas.ts';

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

  app.post(
    '/me/password',
    {
      schema: {
        tags: ['me'],
        summary: 'Change your password',
        description:
          'Needs the current password. Every other web session ends and every other token is revoked; the session or token ' +
          'this request is made with stays. Wrong current passwords count against the log-in limits (429).',
        security: SECURED,
        body: PasswordChangeBody,
        response: responses({ 204: NoContent('The password is changed.') }, [401, 403, 404]),
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const user = await getUser(db, caller);
      await withApiFieldNames({ currentPassword: 'current_password', newPassword: 'new_password' }, 'body', () =>
        app.loginLimiter.logIn(request.ip, user.username ?? '', () =>
          changePassword(db, caller, {
            currentPassword: request.body.current_password,
            newPassword: request.body.new_password,
            keepSession: caller.via === 'session' ? request.currentSessionId : undefined,
            keepToken: caller.via === 'token' ? caller.tokenId : undefined,
          }),
        ),
      );
      return reply.code(204).send();
    },
  );

  app.get(
    '/me/sessions',
    {
      schema: {
        tags: ['me'],
        summary: 'Where you are logged in on the web site',
        description: 'The account’s live web site sessions, most recently used first.',
        security: SECURED,
        response: responses({ 200: SessionList.describe('The sessions.') }, [401]),
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const current = request.currentSessionId;
      const items = (await listSessions(db, caller)).map((session) => ({
        id: session.id,
        current: caller.via === 'session' && session.id === current,
        user_agent: session.userAgent,
        address: session.address,
        created_at: session.createdAt.toISOString(),
        last_seen_at: session.lastSeenAt.toISOString(),
        expires_at: session.expiresAt.toISOString(),
      }));
      return { items };
    },
  );

  app.delete(
    '/me/sessions/:id',
    {
      schema: {
        tags: ['me'],
        summary: 'End a web site session',
        description: 'Logs that browser out. 404 `session_not_found` if it is not one of yours or has already ended.',
        security: SECURED,
        params: SessionIdParams,
        response: responses({ 204: NoContent('The session is ended.') }, [401, 403, 404]),
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      if (!(await endSession(db, caller, request.params.id))) throw domainError('session_not_found');
      return reply.code(204).send();
    },
  );
};
