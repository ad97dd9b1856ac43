// The profile: GET/POST /profile (details, the edit form, the sessions), GET/POST /profile/password,
// POST /profile/sessions/end and /profile/sessions/end-others, GET/POST /profile/delete.
//
// Everything here acts on the logged-in user only (the session's user); no route takes a user id.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ValidationError, domainError, isDomainError } from '../../movr/errors.ts';
import { rideCounts } from '../../movr/rides.ts';
import { endOtherSessions, endSession, listSessions } from '../../movr/sessions.ts';
import * as users from '../../movr/users.ts';
import { logOut, requireUser, userOf } from '../plugins/auth.ts';
import { type FormErrors, NO_FORM_ERRORS, formErrors } from '../forms.ts';
import { inFormOrder } from './account.ts';
import { cityLabel, cityVehiclesPath, regionLabel } from './format.ts';

const text = (max: number) => z.string().max(max).default('');

const profileBody = z.object({
  name: text(1000),
  address: text(1000),
  cardNumber: text(100),
  /** The "remove card" checkbox: present (any value) when ticked. */
  removeCard: z.string().max(20).optional(),
});

const passwordBody = z.object({
  currentPassword: text(1000),
  newPassword: text(1000),
  confirmPassword: text(1000),
});

const endSessionBody = z.object({
  session: text(200),
});

/** The password form's fields, top to bottom. */
const PASSWORD_FIELDS = ['currentPassword', 'newPassword', 'confirmPassword'];

const deleteBody = z.object({
  confirmUsername: text(200),
});

/** The edit form's fields, top to bottom (the order of the error summary). */
const PROFILE_FIELDS = ['name', 'address', 'cardNumber'];

interface ProfileValues {
  name?: string;
  address?: string;
  removeCard?: boolean;
}

export const profilePlugin: FastifyPluginAsyncZod = async (app) => {
  const { db, regions } = app;
  /**
   * The logged-in user's account; user_not_found when it was deleted in another session (the
   * error handler ends this session too).
   */
  async function activeUser(request: FastifyRequest): Promise<users.User> {
    const user = await users.findUser(db, userOf(request));
    if (!user || user.name === null) throw domainError('user_not_found');
    return user;
  }

  async function renderProfile(
    reply: FastifyReply,
    user: users.User,
    values: ProfileValues,
    errors: FormErrors,
  ): Promise<FastifyReply> {
    const [counts, active] = await Promise.all([rideCounts(db, user), listSessions(db, user)]);
    const current = reply.request.currentSessionId;
    const city = regions.findCity(user.city);
    return reply.page('profile', {
      sessions: active.map((session) => ({ ...session, current: session.id === current })),
      title: 'Your profile',
      nav: 'profile',
      user,
      cityName: cityLabel(user.city),
      regionName: city ? regionLabel(city.region) : undefined,
      region: city?.region,
      cityHref: cityVehiclesPath(user.city),
      counts,
      values: { name: values.name ?? user.name ?? '', address: values.address ?? user.address ?? '', removeCard: values.removeCard ?? false },
      errors,
    });
  }

  async function renderDelete(reply: FastifyReply, user: users.User, errors: FormErrors): Promise<FastifyReply> {
    const counts = await rideCounts(db, user);
    return reply.page('profile-delete', {
      title: 'Delete your account',
      nav: 'profile',
      user,
      openRides: counts.open,
      errors,
    });
  }

  app.get('/profile', { preHandler: requireUser }, async (request, reply) => {
    const user = await activeUser(request);
    return renderProfile(reply, user, {}, NO_FORM_ERRORS);
  });

  app.post('/profile', { preHandler: requireUser, schema: { body: profileBody } }, async (request, reply) => {
    const user = await activeUser(request);
    const { name, address, cardNumber } = request.body;
    const removeCard = request.body.removeCard !== undefined;
    const values = { name, address, removeCard };
    const newCard = cardNumber.trim();
    if (removeCard && newCard !== '') {
      const message = 'Either enter a new card number or remove your card, not both.';
      return renderProfile(reply.code(400), user, values, formErrors([{ path: 'cardNumber', message }]));
    }
    try {
      await users.updateProfile(db, user, {
        name,
        address,
        // Blank keeps the card; a number replaces it; the checkbox removes it.
        cardNumber: removeCard ? null : newCard === '' ? undefined : newCard,
      });
    } catch (error) {
      if (error instanceof ValidationError) {
        return renderProfile(reply.code(400), user, values, formErrors(inFormOrder(error.fields, PROFILE_FIELDS)));
      }
      throw error;
    }
    const saved = removeCard && user.maskedCard ? 'Your details are saved and your card is removed.' : 'Your details are saved.';
    return reply.flash('success', saved).redirect('/profile', 303);
  });

  function renderPassword(reply: FastifyReply, errors: FormErrors): Promise<FastifyReply> {
    return reply.page('profile-password', { title: 'Change your password', nav: 'profile', errors });
  }

  app.get('/profile/password', { preHandler: requireUser }, async (_request, reply) => renderPassword(reply, NO_FORM_ERRORS));

  app.post('/profile/password', { preHandler: requireUser, schema: { body: passwordBody } }, async (request, reply) => {
    const user = await activeUser(request);
    const { currentPassword, newPassword, confirmPassword } = request.body;
    if (newPassword !== confirmPassword && newPassword !== '') {
      return renderPassword(reply.code(400), formErrors([{ path: 'confirmPassword', message: 'The two new passwords are not the same.' }]));
    }
    try {
      // Guessing the current password counts against the same limits as logging in.
      await app.loginLimiter.logIn(request.ip, user.username ?? '', () =>
        users.changePassword(db, user, { currentPassword, newPassword, keepSession: request.currentSessionId }),
      );
    } catch (error) {
      if (error instanceof ValidationError) {
        return renderPassword(reply.code(400), formErrors(inFormOrder(error.fields, PASSWORD_FIELDS)));
      }
      throw error;
    }
    return reply.flash('success', 'Your password is changed. Every other device is logged out.').redirect('/profile', 303);
  });

  app.post('/profile/sessions/end', { preHandler: requireUser, schema: { body: endSessionBody } }, async (request, reply) => {
    const user = userOf(request);
    const id = request.body.session;
    if (id === request.currentSessionId) {
      await logOut(request);
      return reply.flash('info', 'You are logged out on this device.').redirect('/', 303);
    }
    const ended = await endSession(db, user, id);
    return reply
      .flash(ended ? 'success' : 'info', ended ? 'That device is logged out.' : 'That session had already ended.')
      .redirect('/profile#sessions', 303);
  });

  app.post('/profile/sessions/end-others', { preHandler: requireUser }, async (request, reply) => {
    await endOtherSessions(db, userOf(request), request.currentSessionId);
    return reply.flash('success', 'Every other device is logged out.').redirect('/profile#sessions', 303);
  });

  app.get('/profile/delete', { preHandler: requireUser }, async (request, reply) => {
    const user = await activeUser(request);
    return renderDelete(reply, user, NO_FORM_ERRORS);
  });

  app.post('/profile/delete', { preHandler: requireUser, schema: { body: deleteBody } }, async (request, reply) => {
    const user = await activeUser(request);
    const typed = users.normalizeUsername(request.body.confirmUsername);
    if (typed === '' || user.username === null || typed !== users.normalizeUsername(user.username)) {
      const message =
        typed === '' ? 'Type your username to confirm.' : 'That is not your username. Type it exactly to confirm.';
      return renderDelete(reply.code(400), user, formErrors([{ path: 'confirmUsername', message }]));
    }
    try {
      await users.deleteAccount(db, user);
    } catch (error) {
      if (isDomainError(error, 'ride_open')) {
        return reply
          .flash('error', `Your account was not deleted. ${error.message}`)
          .redirect('/profile/delete', 303);
      }
      throw error;
    }
    await logOut(request);
    return reply.flash('success', 'Your account is deleted. Thank you for riding with MovR.').redirect('/', 303);
  });
};
