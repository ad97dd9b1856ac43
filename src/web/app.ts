// Builds MovR's web application: a Fastify instance with logging, security headers, static
// assets, templates, zod validation, one error handler, form bodies, sessions, CSRF protection,
// flash messages and rate limits. It never listens (see server.ts), so tests drive it with
// app.inject().
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import fastifyFormbody from '@fastify/formbody';
import fastifyStatic from '@fastify/static';
import fastifyView from '@fastify/view';
import { Eta } from 'eta';
import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import type { Config } from '../config.ts';
import type { Database } from '../db/connect.ts';
import { FORM_RULES } from '../movr/rules.ts';
import { apiPlugin } from './api/index.ts';
import { errorsPlugin, handleClientError, handleFrameworkError } from './errors.ts';
import { LOGIN_LIMITS, type LoginLimiter, openLoginLimiter } from './login-limiter.ts';
import { responseSerializerCompiler } from './serializers.ts';
import { healthPlugin } from './health.ts';
import { fastifyLoggerOptions, requestLine } from './logging.ts';
import { metricsPlugin, metricsRoutes } from './metrics.ts';
import { templateFormat } from './pages/format.ts';
import { accountPlugin } from './pages/account.ts';
import { homePlugin } from './pages/home.ts';
import { myVehiclesPlugin } from './pages/my-vehicles.ts';
import { operatorPagesPlugin } from './pages/operator.ts';
import { profilePlugin } from './pages/profile.ts';
import { promoCodesPlugin } from './pages/promo-codes.ts';
import { ridesPlugin } from './pages/rides.ts';
import { vehiclesPlugin } from './pages/vehicles.ts';
import { authPlugin } from './plugins/auth.ts';
import { contextPlugin } from './plugins/context.ts';
import { csrfPlugin } from './plugins/csrf.ts';
import { operatorPlugin } from './plugins/operator.ts';
import { pagesPlugin } from './plugins/pages.ts';
import { protectedServerFactory, protectionPlugin } from './plugins/protection.ts';
import { rateLimitPlugin } from './plugins/rate-limit.ts';
import { securityHeadersPlugin } from './plugins/security-headers.ts';
import { sessionsPlugin } from './plugins/sessions.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The one log-in and sign-up limiter of the site and the API. */
    readonly loginLimiter: LoginLimiter;
  }
}

/**
 * Eta that resolves each (template, including file) pair to its path once. Eta caches compiled
 * templates but works each include's path out again on every render (path joins, a JSON cache
 * key): with a partial per listed vehicle, that was about 9% of a page's CPU.
 */
class CachingEta extends Eta {
  constructor(...args: ConstructorParameters<typeof Eta>) {
    super(...args);
    const resolveUncached = this.resolvePath;
    if (!resolveUncached) return;
    const resolved = new Map<string, string>();
    this.resolvePath = (template, options) => {
      const key = `${options?.filepath ?? ''}\0${template}`;
      let path = resolved.get(key);
      if (path === undefined) {
        path = resolveUncached.call(this, template, options);
        resolved.set(key, path);
      }
      return path;
    };
  }
}

export const VIEWS_DIR = fileURLToPath(new URL('./views/', import.meta.url));
export const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));

/** Largest request body accepted (forms and JSON); larger ones get 413. */
export const BODY_LIMIT_BYTES = 100 * 1024;

export interface BuildAppOptions {
  config: Config;
  db: Database;
  /** Signs and encrypts session cookies (see secret-key.ts). */
  secretKey: string;
  /** Fastify's `logger` option; by default MovR's (logging.ts), configured from config. */
  logger?: boolean | object;
}

/**
 * The app, in the order of Fastify's reference app: external plugins (security headers, static
 * files, templates, form bodies), then MovR's app-wide plugins (context, sessions, who is logged
 * in, CSRF, pages, rate limits, the error handler), then the routes.
 */
export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const { config, db } = options;

  const app = Fastify({
    logger: (options.logger ?? fastifyLoggerOptions(config)) as FastifyServerOptions['logger'],
    // Behind a proxy, X-Forwarded-* would be trusted only once the operator says so.
    trustProxy: false,
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: () => randomUUID(),
    // One line per request, when it is answered (below), rather than Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    // In-flight requests finish on close; idle keep-alive connections are closed at once.
    forceCloseConnections: 'idle',
    // Requests during shutdown get the app's own 503 (plugins/protection.ts).
    return503OnClosing: false,
    serverFactory: protectedServerFactory(config),
    // Malformed %-escapes and over-long path parameters: the app's own error pages (errors.ts).
    frameworkErrors: handleFrameworkError,
    // Malformed HTTP, headers too large, too slow: the error shape and security headers too.
    clientErrorHandler: handleClientError,
  });

  // The log-in and sign-up limits, shared through Redis when MOVR_REDIS_URL is set (login-limiter.ts).
  const loginLimiter = await openLoginLimiter({
    redisUrl: config.redisUrl,
    prefix: `${config.redisPrefix}limits`,
    log: app.log,
    limits: { ...LOGIN_LIMITS, perAddress: config.perAddressLoginLimits },
  });
  app.decorate('loginLimiter', loginLimiter);
  app.addHook('onClose', async () => loginLimiter.close());

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(responseSerializerCompiler(config.nodeEnv));

  // One line per request, when it is answered: method, route pattern (the path for no route),
  // status, milliseconds, the request id (reqId, bound by Fastify) and a refusal's error code.
  app.decorateRequest('problemCode', undefined);
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? request.url.split('?', 1)[0] ?? '/';
    const ms = Math.round(reply.elapsedTime);
    const status = reply.statusCode;
    const line = { method: request.method, route, status, ms, ...(request.problemCode ? { code: request.problemCode } : {}) };
    request.log.info(line, requestLine(request.method, route, status, ms));
    done();
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  await app.register(securityHeadersPlugin);

  await app.register(fastifyStatic, {
    root: PUBLIC_DIR,
    prefix: '/static/',
    // Not reply.sendFile(): pages are rendered, never sent as files.
    decorateReply: false,
    index: false,
    maxAge: config.nodeEnv === 'production' ? '1h' : 0,
  });

  await app.register(fastifyView, {
    engine: { eta: config.nodeEnv === 'production' ? new CachingEta({ views: VIEWS_DIR, autoEscape: true, cache: true }) : new Eta({ views: VIEWS_DIR, autoEscape: true }) },
    root: VIEWS_DIR,
    production: config.nodeEnv === 'production',
    defaultContext: {
      appName: 'MovR',
      instanceRegion: config.region,
      fmt: templateFormat,
      rules: FORM_RULES,
    },
  });

  // application/x-www-form-urlencoded bodies, within the same BODY_LIMIT_BYTES.
  await app.register(fastifyFormbody);

  // Each names the plugins it needs, so a wrong order fails at start-up.
  await app.register(contextPlugin, { config, db, secretKey: options.secretKey });
  await app.register(protectionPlugin);
  await app.register(metricsPlugin);
  await app.register(sessionsPlugin);
  await app.register(authPlugin);
  await app.register(operatorPlugin);
  await app.register(csrfPlugin);
  await app.register(pagesPlugin);
  await app.register(rateLimitPlugin);
  await app.register(errorsPlugin);

  await app.register(healthPlugin);
  await app.register(metricsRoutes);
  await app.register(homePlugin);
  await app.register(vehiclesPlugin);
  await app.register(ridesPlugin);
  await app.register(myVehiclesPlugin);
  await app.register(accountPlugin);
  await app.register(profilePlugin);
  await app.register(promoCodesPlugin);
  await app.register(operatorPagesPlugin);
  // The JSON API under /api/v1, its OpenAPI document and /docs (see api/index.ts).
  await app.register(apiPlugin);

  return app;
}
