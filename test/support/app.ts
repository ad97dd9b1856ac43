// The one way tests build the web app (site, API and health checks) on a test database.
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Database } from '../../src/db/connect.ts';
import { buildApp } from '../../src/web/app.ts';
import { logIn } from '../../src/web/plugins/auth.ts';
import { TEST_SECRET_KEY, testConfig } from './config.ts';

export interface TestAppOptions {
  /** Settings on top of the test configuration, e.g. { MOVR_API_RATE_LIMIT: '5' }. */
  env?: Record<string, string>;
  /** Fastify's logger option; silent by default. */
  logger?: boolean | object;
  /** The secret key; TEST_SECRET_KEY unless a test needs an app with another one. */
  secretKey?: string;
  /** Test-only routes, registered on the built app before it is ready (e.g. logInAsRoutes). */
  routes?: FastifyPluginAsync;
}

/** The real app on `db`, ready for app.inject(). Close it when done. */
export async function buildTestApp(db: Database, options: TestAppOptions = {}): Promise<FastifyInstance> {
  const app = await buildApp({
    config: testConfig(options.env),
    db,
    secretKey: options.secretKey ?? TEST_SECRET_KEY,
    logger: options.logger ?? false,
  });
  if (options.routes) await app.register(options.routes);
  await app.ready();
  return app;
}

/**
 * Test-only routes for page tests: GET /test/log-in-as/:city/:id logs the browser in as that
 * user (as the log-in page does, without a password), and GET /test/csrf answers a CSRF token
 * for the session (for visitors, whose pages may have no POST form).
 */
export const logInAsRoutes: FastifyPluginAsync = async (app) => {
  app.get('/test/log-in-as/:city/:id', async (request, reply) => {
    const { city, id } = request.params as { city: string; id: string };
    await logIn(request, { id, city });
    return reply.redirect('/', 303);
  });
  app.get('/test/csrf', async (_request, reply) => ({ token: reply.generateCsrf() }));
};
