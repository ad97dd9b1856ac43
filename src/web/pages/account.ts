// Accounts: GET/POST /signup, GET/POST /login (both limited: ../login-limiter.ts), POST /logout.
//
// Passwords and card numbers are never written back into a form, and the full card number
// never leaves this request: users.signUp keeps only its masked last four digits.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AuthenticationError, type FieldError, ValidationError, isDomainError } from '../../movr/errors.ts';
import * as users from '../../movr/users.ts';
import type { RegionMap, RegionName } from '../../region-map.ts';
import { type FormErrors, NO_FORM_ERRORS, formErrors } from '../forms.ts';
import { logIn, logOut, safeNextPath } from '../plugins/auth.ts';
import { cityLabel, cityVehiclesPath, regionLabel } from './format.ts';

/** Generous caps: the domain gives the precise, friendly limits; these only stop abuse. */
const text = (max: number) => z.string().max(max).default('');
/** A value that is dropped (rather than refused) when it is not a single string. */
const optionalText = z.string().max(2000).optional().catch(undefined);

const signUpBody = z.object({
  name: text(1000),
  city: text(100),
  address: text(1000),
  username: text(200),
  password: text(1000),
  cardNumber: text(100),
});

const logInBody = z.object({
  username: text(200),
  password: text(1000),
  next: optionalText,
});

/** The sign-up form's fields, top to bottom: the error summary lists problems in this order. */
const SIGN_UP_FIELDS = ['name', 'city', 'address', 'username', 'password', 'cardNumber'];

/** Field errors sorted by where their fields appear in the form (unknown paths last). */
export function inFormOrder(fields: readonly FieldError[], order: readonly string[]): FieldError[] {
  const rank = (path: string) => {
    const index = order.indexOf(path);
    return index === -1 ? order.length : index;
  };
  return [...fields].sort((a, b) => rank(a.path) - rank(b.path));
}

export interface CityOptionGroup {
  label: string;
  region: RegionName;
  options: { value: string; label: string }[];
}

/** The cities for a <select>, grouped by region, this instance's region first. */
export function cityOptionGroups(regions: RegionMap, homeRegion: RegionName | undefined): CityOptionGroup[] {
  return regions.citiesByRegion(homeRegion).map(({ region, cities }) => ({
    label: regionLabel(region),
    region,
    options: cities.map((city) => ({ value: city.name, label: cityLabel(city.name) })),
  }));
}

export const accountPlugin: FastifyPluginAsyncZod = async (app) => {
  const { config, db, regions } = app;
  const cityGroups = cityOptionGroups(regions, config.region);

  function renderSignUp(reply: FastifyReply, values: Partial<Record<string, string>>, errors: FormErrors) {
    return reply.page('signup', { title: 'Sign up', nav: 'signup', values, errors, cityGroups });
  }

  function renderLogIn(reply: FastifyReply, values: { username?: string; next?: string | undefined }, errors: FormErrors) {
    return reply.page('login', { title: 'Log in', nav: 'login', values, errors });
  }

  /** A logged-in user has no business on the sign-up and log-in pages. */
  function alreadyLoggedIn(request: FastifyRequest, reply: FastifyReply): FastifyReply | undefined {
    return request.currentUser ? reply.redirect('/', 303) : undefined;
  }

  app.get('/signup', async (request, reply) => {
    return alreadyLoggedIn(request, reply) ?? renderSignUp(reply, {}, NO_FORM_ERRORS);
  });

  app.post('/signup', { schema: { body: signUpBody } }, async (request, reply) => {
    const redirected = alreadyLoggedIn(request, reply);
    if (redirected) return redirected;
    const body = request.body;
    // What the form shows again: never the password, never the card number.
    const values = { name: body.name, city: body.city, address: body.address, username: body.username };
    try {
      const user = await app.loginLimiter.signUp(request.ip, () => users.signUp(db, {
        name: body.name,
        city: body.city,
        address: body.address,
        username: body.username,
        password: body.password,
        cardNumber: body.cardNumber,
      }, { regions }));
      await logIn(request, { id: user.id, city: user.city, ...(user.username ? { username: user.username } : {}) });
      const city = cityLabel(user.city);
      reply.flash('success', `Welcome to MovR, ${user.name ?? user.username ?? 'rider'}! Here are the vehicles in ${city}.`);
      return reply.redirect(cityVehiclesPath(user.city), 303);
    } catch (error) {
      if (error instanceof ValidationError) {
        return renderSignUp(reply.code(400), values, formErrors(inFormOrder(error.fields, SIGN_UP_FIELDS)));
      }
      if (isDomainError(error, 'username_taken')) {
        return renderSignUp(reply.code(409), values, formErrors([{ path: 'username', message: error.message }]));
      }
      throw error;
    }
  });

  app.get(
    '/login',
    { schema: { querystring: z.object({ next: optionalText }) } },
    async (request, reply) => {
      return (
        alreadyLoggedIn(request, reply) ??
        renderLogIn(reply, { next: safeNextPath(request.query.next) }, NO_FORM_ERRORS)
      );
    },
  );

  app.post(
    '/login',
    { schema: { body: logInBody } },
    async (request, reply) => {
      const redirected = alreadyLoggedIn(request, reply);
      if (redirected) return redirected;
      const { username, password } = request.body;
      const next = safeNextPath(request.body.next);
      try {
        const user = await app.loginLimiter.logIn(request.ip, username, () => users.logIn(db, username, password));
        await logIn(request, { id: user.id, city: user.city, ...(user.username ? { username: user.username } : {}) });
        reply.flash('success', `Welcome back${user.name ? `, ${user.name}` : ''}!`);
        const home = regions.findCity(user.city) ? cityVehiclesPath(user.city) : '/';
        return reply.redirect(next ?? home, 303);
      } catch (error) {
        if (error instanceof AuthenticationError) {
          // One message for an unknown username and a wrong password alike.
          return renderLogIn(reply.code(401), { username, next }, formErrors([{ path: '', message: error.message }]));
        }
        throw error;
      }
    },
  );

  app.post('/logout', async (request, reply) => {
    await logOut(request);
    return reply.flash('info', 'You are logged out. See you soon!').redirect('/', 303);
  });
};
