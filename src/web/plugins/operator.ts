// The operator role on the web: every route under /operator (pages) and /api/v1/operator (API)
// is for operators only, enforced here, once, for every such route as it is registered, so a new
// operator route cannot forget the check (decision 0023).
//
//   request.operator        the operator making the request (on operator routes), else null
//   operatorOf(request)     the same, for handlers of operator routes (never null there)
//   operatorRoutes(app)     the operator routes registered: what the tests walk, route by route
//
// Who is calling comes from the request-level "current user" the rest of the app uses:
// request.apiCaller on API routes (bearer token or session, see api/index.ts, which runs first),
// request.currentUser on pages. Visitors get 401 (API) or the log-in page; users who are not
// operators get 403 not_operator, before the body is read or the CSRF token checked.
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { domainError } from '../../movr/errors.ts';
import { type Operator, findOperator } from '../../movr/operators.ts';
import { wantsJson } from '../errors.ts';
import { requireUser } from './auth.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The operator making this request, on operator routes; null elsewhere. */
    operator: Operator | null;
  }
}

export const OPERATOR_PAGES_PREFIX = '/operator';
export const OPERATOR_API_PREFIX = '/api/v1/operator';

/** Is this route (or request path) one of the operators'? */
export function isOperatorPath(url: string): boolean {
  const path = url.split('?', 1)[0] ?? '';
  return [OPERATOR_PAGES_PREFIX, OPERATOR_API_PREFIX].some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

export interface OperatorRoute {
  readonly method: string;
  readonly url: string;
}

const routesByServer = new WeakMap<object, OperatorRoute[]>();

/** The operator routes registered on this app (HEAD routes left out). */
export function operatorRoutes(app: FastifyInstance): readonly OperatorRoute[] {
  return routesByServer.get(app.server) ?? [];
}

/** The operator of a request to an operator route. */
export function operatorOf(request: FastifyRequest): Operator {
  const operator = request.operator;
  if (!operator) throw domainError('not_operator');
  return operator;
}

/** onRequest of every operator route: the caller must be an operator. */
const requireOperator = async function requireOperator(
  this: FastifyInstance,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply | undefined> {
  const path = request.url.split('?', 1)[0] ?? '';
  const isApi = path === OPERATOR_API_PREFIX || path.startsWith(`${OPERATOR_API_PREFIX}/`);
  const user = isApi ? request.apiCaller : request.currentUser;
  if (!user) {
    if (isApi || wantsJson(request)) throw domainError('unauthenticated');
    // Pages: to the log-in page and back.
    return requireUser(request, reply);
  }
  const operator = await findOperator(this.db, user);
  if (!operator) throw domainError('not_operator');
  request.operator = operator;
  return undefined;
} as onRequestHookHandler;

export const operatorPlugin = fp(
  async (app) => {
    const recorded: OperatorRoute[] = [];
    routesByServer.set(app.server, recorded);
    app.decorateRequest('operator', null);
    app.addHook('onRoute', (route) => {
      if (!isOperatorPath(route.url)) return;
      const existing = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
      if (!existing.includes(requireOperator)) route.onRequest = [...existing, requireOperator];
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) {
        if (String(method).toUpperCase() !== 'HEAD') recorded.push({ method: String(method).toUpperCase(), url: route.url });
      }
    });
  },
  { name: 'movr-operator', dependencies: ['movr-context', 'movr-auth'] },
);
