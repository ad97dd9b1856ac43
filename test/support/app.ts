// The one way tests build the web app (site, API and health checks) on a test database.
import type { FastifyInstance } from 'fastify';
import type { Database } from '../../src/db/connect.ts';
import { buildApp } from '../../src/web/app.ts';
import { TEST_SECRET_KEY, testConfig } from './config.ts';

export interface TestAppOptions {
  /** Settings on top of the test configuration, e.g. { MOVR_API_RATE_LIMIT: '5' }. */
  env?: Record<string, string>;
  /** Fastify's logger option; silent by default. */
  logger?: boolean | object;
}

/** The real app on `db`, ready for app.inject(). Close it when done. */
export async function buildTestApp(db: Database, options: TestAppOptions = {}): Promise<FastifyInstance> {
  const app = await buildApp({ config: testConfig(options.env), db, secretKey: TEST_SECRET_KEY, logger: options.logger ?? false });
  await app.ready();
  return app;
}
