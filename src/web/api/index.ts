// MovR's JSON API, under /api/v1, and its OpenAPI 3.1 document and interactive reference.
//
//   GET /api/v1/openapi.json   the OpenAPI document, generated from the routes' zod schemas
//   GET /docs                  Swagger UI (self-hosted assets) showing that document
//
// Every route validates its request and serializes its response with zod schemas (schemas.ts,
// built from the domain's rules in src/movr/rules.ts); @fastify/swagger turns the same schemas
// into the document, so the document describes exactly what the server checks and sends.
//
// Around the routes, in this order for each request:
//   1. a generous per-IP rate limit for the whole API (429 too_many_requests);
//   2. bodies must be JSON (415 unsupported_media_type otherwise);
//   3. routes whose schema declares `security: SECURED` need a caller: a bearer token or the web
//      site's session cookie (401 unauthenticated / invalid_token, with `WWW-Authenticate:
//      Bearer`; 403 cross_site_request for a cookie sent with a change from another origin);
//   4. zod validation of params, query, headers and body (400 validation_failed);
//   5. the handler, which calls the same domain functions as the web site.
// Errors go through the app's one error handler (../errors.ts). Why the API needs no CSRF
// token: docs/decisions/0006-csrf-and-the-api.md.
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type {
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  FastifySchema,
  onRequestHookHandler,
} from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { verifyToken } from '../../movr/api-tokens.ts';
import { AuthenticationError, domainError } from '../../movr/errors.ts';
import { TooManyRequestsError } from '../errors.ts';
import { SESSION_COOKIE } from '../plugins/sessions.ts';
import { authRoutes } from './auth.ts';
import { citiesRoutes } from './cities.ts';
import { MalformedJsonError } from './common.ts';
import { meRoutes } from './me.ts';
import { operatorRoutes } from './operator.ts';
import { promoCodesRoutes } from './promo-codes.ts';
import { ridesRoutes } from './rides.ts';
import { responses } from './schemas.ts';
import { vehiclesRoutes } from './vehicles.ts';

export const API_PREFIX = '/api/v1';
export const DOCS_PREFIX = '/docs';
export const OPENAPI_PATH = `${API_PREFIX}/openapi.json`;

/** The whole API's allowance per client IP address is MOVR_API_RATE_LIMIT requests in this window. */
export const API_RATE_LIMIT_WINDOW_MS = 60_000;

/** A route of the API as registered: what the tests compare with the OpenAPI document. */
export interface ApiRoute {
  readonly method: string;
  /** The full path with Fastify's parameter syntax, e.g. /api/v1/rides/:city/:id. */
  readonly url: string;
  readonly schema: FastifySchema | undefined;
}

// Keyed by the HTTP server, which the root instance and every plugin scope share.
const routesByServer = new WeakMap<object, ApiRoute[]>();

/** The API routes registered on this app (HEAD routes left out). */
export function apiRoutes(app: FastifyInstance): readonly ApiRoute[] {
  return routesByServer.get(app.server) ?? [];
}

const BODYLESS_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function mediaType(contentType: string): string {
  return (contentType.split(';', 1)[0] ?? '').trim().toLowerCase();
}

/**
 * onRequest: refuses bodies that are not application/json (415), before they are read. For
 * methods that change things, a non-JSON Content-Type is refused even with an empty body (an
 * empty form POST), see the note on CSRF at the top.
 */
async function requireJsonBodies(request: FastifyRequest): Promise<void> {
  const contentType = request.headers['content-type'];
  const length = Number(request.headers['content-length'] ?? 0);
  const hasBody = length > 0 || request.headers['transfer-encoding'] !== undefined;
  if (contentType === undefined) {
    if (hasBody) throw unsupportedMediaType();
    return;
  }
  if (!hasBody && BODYLESS_METHODS.has(request.method)) return;
  if (mediaType(contentType) !== 'application/json') throw unsupportedMediaType();
}

function unsupportedMediaType(): Error {
  return Object.assign(new Error('Send request bodies as JSON, with Content-Type: application/json.'), { statusCode: 415 });
}

const BEARER = /^Bearer +(\S+) *$/i;

/**
 * For requests authenticated by the session cookie that change something: refuses (403
 * cross_site_request) those a browser says come from another site or origin. SameSite=Lax
 * already keeps the cookie off cross-site requests, but not off requests from a sibling
 * subdomain (same site, other origin), e.g. a body-less POST /auth/logout. Browsers send
 * Sec-Fetch-Site, or at least Origin, with every such request; clients that send neither are
 * not browsers acting for someone else.
 */
function refuseCrossSite(request: FastifyRequest): void {
  if (BODYLESS_METHODS.has(request.method)) return;
  const fetchSite = request.headers['sec-fetch-site'];
  let foreign: boolean;
  if (typeof fetchSite === 'string') {
    foreign = fetchSite !== 'same-origin' && fetchSite !== 'none';
  } else {
    const origin = request.headers.origin;
    foreign = origin !== undefined && !sameHost(origin, request.headers.host);
  }
  if (foreign) {
    throw domainError('cross_site_request');
  }
}

/** Does an Origin header name this server's Host (default ports normalised by the origin's scheme)? */
function sameHost(origin: string, host: string | undefined): boolean {
  if (origin === 'null' || host === undefined) return false;
  try {
    const from = new URL(origin);
    return from.host === new URL(`${from.protocol}//${host}`).host;
  } catch {
    return false;
  }
}

/** onRequest of secured routes: finds the caller from a bearer token or the session, or answers 401. */
function authenticator(app: FastifyInstance): onRequestHookHandler {
  return async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = request.headers.authorization;
    if (header !== undefined) {
      // A token that was sent is checked, even if a session cookie came along too.
      const token = BEARER.exec(header)?.[1];
      if (token === undefined) {
        reply.header('www-authenticate', 'Bearer realm="MovR", error="invalid_request"');
        throw domainError('invalid_token', { malformed: true });
      }
      try {
        const owner = await verifyToken(app.db, token, app.keys.token);
        request.apiCaller = { city: owner.city, id: owner.id, tokenId: owner.tokenId, via: 'token' };
      } catch (error) {
        if (error instanceof AuthenticationError) reply.header('www-authenticate', 'Bearer realm="MovR", error="invalid_token"');
        throw error;
      }
      return;
    }
    const user = request.currentUser;
    if (user) {
      refuseCrossSite(request);
      request.apiCaller = { city: user.city, id: user.id, via: 'session' };
      return;
    }
    throw domainError('unauthenticated');
  };
}

/** The routes under /api/v1, with their hooks. */
const apiV1: FastifyPluginAsync = async (app) => {
  const authenticate = authenticator(app);
  const recorded: ApiRoute[] = [];
  routesByServer.set(app.server, recorded);

  app.decorateRequest('apiCaller', null);

  // JSON bodies, parsed as Fastify does (prototype-poisoning refused), but an empty body is no
  // body rather than an error: POST /auth/logout with a Content-Type but nothing to say is fine.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    parseJson(request, text, (error, value) => {
      if (error) done(new MalformedJsonError({ cause: error }), undefined);
      else done(null, value);
    });
  });

  // 1. The whole API's rate limit, per IP. createRateLimit rather than a route config, so that
  // routes keep their own, stricter limits (the log-in limit) as well.
  if (app.config.apiRateLimitPerMinute > 0) {
    const limiter = app.createRateLimit({ max: app.config.apiRateLimitPerMinute, timeWindow: API_RATE_LIMIT_WINDOW_MS });
    app.addHook('onRequest', async (request) => {
      const result = await limiter(request);
      if (!result.isAllowed && result.isExceeded) throw new TooManyRequestsError(result.ttl);
    });
  }
  // 2. JSON bodies only.
  app.addHook('onRequest', requireJsonBodies);
  // 3. Authentication, for the routes whose schema says they need it; and the route table.
  app.addHook('onRoute', (route) => {
    const secured = (route.schema?.security?.length ?? 0) > 0;
    if (secured) {
      const existing = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
      if (!existing.includes(authenticate)) route.onRequest = [authenticate, ...existing];
    }
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (String(method).toUpperCase() !== 'HEAD') recorded.push({ method: String(method).toUpperCase(), url: route.url, schema: route.schema });
    }
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (reply.statusCode === 401 && !reply.hasHeader('www-authenticate')) reply.header('www-authenticate', 'Bearer realm="MovR"');
    // Responses carry personal data or change with every write: never cached.
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });

  app.get(
    '/openapi.json',
    {
      schema: {
        tags: ['meta'],
        summary: 'This API’s OpenAPI 3.1 document',
        response: responses({ 200: z.looseObject({ openapi: z.string() }).describe('The OpenAPI document.') }),
      },
    },
    async () => app.swagger() as unknown as { openapi: string },
  );

  await app.register(authRoutes);
  await app.register(meRoutes);
  await app.register(citiesRoutes);
  await app.register(vehiclesRoutes);
  await app.register(ridesRoutes);
  await app.register(promoCodesRoutes);
  await app.register(operatorRoutes);
};

const REF_PREFIX = '#/components/schemas/';

/**
 * jsonSchemaTransformObject writes every named schema twice, as read (`FooInput`) and as
 * written (`Foo`), whether or not the API uses it both ways. Keeps only the components the
 * document refers to, and names a schema the API only reads `Foo` rather than `FooInput`.
 */
export function tidyComponents<T>(document: T): T {
  const doc = document as { paths?: unknown; components?: { schemas?: Record<string, unknown> } };
  const schemas = doc.components?.schemas;
  if (!schemas) return document;
  const refsIn = (value: unknown, found: Set<string>): Set<string> => {
    if (Array.isArray(value)) for (const item of value) refsIn(item, found);
    else if (typeof value === 'object' && value !== null) {
      for (const [key, child] of Object.entries(value)) {
        if (key === '$ref' && typeof child === 'string' && child.startsWith(REF_PREFIX)) found.add(child.slice(REF_PREFIX.length));
        else refsIn(child, found);
      }
    }
    return found;
  };
  const used = refsIn(doc.paths, new Set());
  for (const pending = [...used]; pending.length > 0; ) {
    const name = pending.pop() ?? '';
    for (const ref of refsIn(schemas[name], new Set())) {
      if (!used.has(ref)) {
        used.add(ref);
        pending.push(ref);
      }
    }
  }
  const renames = new Map<string, string>();
  for (const name of used) {
    const plain = name.endsWith('Input') ? name.slice(0, -'Input'.length) : undefined;
    if (plain && !used.has(plain)) renames.set(REF_PREFIX + name, REF_PREFIX + plain);
  }
  const kept: Record<string, unknown> = {};
  for (const name of [...used].sort()) {
    const renamed = renames.get(REF_PREFIX + name)?.slice(REF_PREFIX.length) ?? name;
    kept[renamed] = schemas[name];
  }
  const tidy = { ...doc, components: { ...doc.components, schemas: kept } };
  return JSON.parse(JSON.stringify(tidy), (key, value: unknown) =>
    key === '$ref' && typeof value === 'string' ? (renames.get(value) ?? value) : value,
  ) as T;
}

const DESCRIPTION = `The JSON API of MovR, a vehicle-sharing platform: find a vehicle in a city MovR serves, ride it,
end the ride and pay; add your own vehicles; use promo codes.

**Authentication.** \`POST /api/v1/auth/login\` returns a bearer token; send it as
\`Authorization: Bearer <token>\`. Tokens expire after a day; \`POST /api/v1/auth/logout\` revokes one.
Same-site calls from the web site may use its session cookie instead.

**Requests and responses** are JSON (\`Content-Type: application/json\`); other bodies get 415.
Fields are snake_case, dates ISO-8601 in UTC, money a decimal string plus whole cents.
A city in a path is its name, URL-encoded (\`new%20york\`); ids are UUIDs.

**Errors** all look like \`{"error": {"code": "…", "message": "…"}}\`; \`code\` is stable.

**Lists** are pages: \`{"items": […], "next_cursor": "…"}\`; pass \`cursor=<next_cursor>\` for the next one.

**Safe retries:** \`POST /rides\` and \`POST /rides/{city}/{id}/end\` accept an \`Idempotency-Key\` header.`;

/**
 * The API and its documentation. Registered on the root app after sessions, CSRF and rate
 * limits (see app.ts). @fastify/swagger is registered in this plugin's scope, so the document
 * holds the API's routes and none of the web site's pages.
 */
export const apiPlugin: FastifyPluginAsync = async (app) => {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'MovR API', version: '1.0.0', description: DESCRIPTION },
      tags: [
        { name: 'auth', description: 'Registering, logging in and out' },
        { name: 'me', description: 'The caller’s account' },
        { name: 'cities', description: 'Where MovR operates' },
        { name: 'vehicles', description: 'Vehicles to ride, and your own' },
        { name: 'rides', description: 'Starting, tracking and ending rides' },
        { name: 'promo-codes', description: 'Discounts' },
        { name: 'operator', description: 'Running the platform: promo campaigns, the fleet, the numbers (operators only: 403 `not_operator` for everyone else)' },
        { name: 'meta', description: 'About the API itself' },
      ],
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            description: 'A token from POST /api/v1/auth/login, valid for a day.',
          },
          sessionCookie: {
            type: 'apiKey',
            in: 'cookie',
            name: SESSION_COOKIE,
            description: 'The web site’s session cookie, for same-site calls from a logged-in browser.',
          },
        },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: (document) => tidyComponents(jsonSchemaTransformObject(document)),
  });

  await app.register(apiV1, { prefix: API_PREFIX });

  // Swagger UI's assets are served from the package itself (no CDN), and the page works under
  // the app's strict Content-Security-Policy unchanged (script-src and style-src 'self', no
  // inline code): its HTML loads only files, and React sets styles through the DOM, which CSP
  // allows. The one exception would be the top bar, whose Swagger logo is an SVG with an inline
  // <style> element; BaseLayout leaves the top bar (and its "explore any URL" box) out.
  await app.register(fastifySwaggerUi, {
    routePrefix: DOCS_PREFIX,
    theme: { title: 'MovR API reference' },
    uiConfig: {
      layout: 'BaseLayout',
      deepLinking: true,
      defaultModelsExpandDepth: 0,
      displayRequestDuration: true,
      tryItOutEnabled: false,
    },
    validatorUrl: false,
  });
};
