// Health checks for load balancers and orchestrators.
//   GET /healthz  the process is up and serving (never touches the database)
//   GET /readyz   the database answers `SELECT 1` within READY_TIMEOUT_MS
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

export const READY_TIMEOUT_MS = 2000;

const databaseKind = z.enum(['pglite', 'postgres', 'cockroachdb']);

export const healthPlugin: FastifyPluginAsyncZod<{ readyTimeoutMs?: number }> = async (app, options) => {
  const { db } = app;
  const timeoutMs = options.readyTimeoutMs ?? READY_TIMEOUT_MS;

  app.get(
    '/healthz',
    {
      // Probed every few seconds: only problems are worth logging.
      logLevel: 'warn',
      schema: { response: { 200: z.object({ status: z.literal('ok') }) } },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'no-store');
      return { status: 'ok' as const };
    },
  );

  app.get(
    '/readyz',
    {
      logLevel: 'warn',
      schema: {
        response: {
          200: z.object({ status: z.literal('ready'), database: databaseKind }),
          503: z.object({ status: z.literal('unavailable'), database: databaseKind }),
        },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      try {
        await withTimeout(db.execute('SELECT 1'), timeoutMs);
        return reply.code(200).send({ status: 'ready', database: db.kind });
      } catch (error) {
        // Logged for operators; the response says nothing about the cause.
        request.log.warn({ err: error }, 'readiness check failed: the database did not answer SELECT 1');
        return reply.code(503).send({ status: 'unavailable', database: db.kind });
      }
    },
  );
};

/** `promise`, or a rejection after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
