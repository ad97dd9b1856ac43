// The OpenAPI document: valid OpenAPI 3.1, generated from the routes' schemas, and complete:
// every route under /api/v1 is in it, and nothing else is. Also /docs, the interactive reference.
import { validate } from '@readme/openapi-parser';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_PREFIX, apiRoutes } from '../../src/web/api/index.ts';
import { buildTestApp } from '../support/app.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { ApiClient } from './helpers.ts';

type Operation = {
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>;
  security?: Record<string, string[]>[];
  parameters?: { in: string; name: string; required?: boolean }[];
  requestBody?: { content?: Record<string, unknown> };
  summary?: string;
  tags?: string[];
};
type OpenApiDocument = {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
};

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Fastify's `/rides/:city/:id` as OpenAPI's `/rides/{city}/{id}`. */
function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/**
 * The routes printRoutes() shows under /api/v1, as "METHOD /path": Fastify's own view of its
 * router, independent of apiRoutes(). printRoutes draws a tree whose lines extend their
 * parent's path; the indentation (4 characters a level) says which line is whose parent.
 */
function printedApiRoutes(app: FastifyInstance): string[] {
  const found: string[] = [];
  const pathAtDepth: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const start = line.search(/[^\s│├└─]/);
    const match = /^(\S+) \(([^)]+)\)$/.exec(line.slice(start).trim());
    if (start < 0 || !match?.[1] || !match[2]) continue;
    const depth = Math.floor(start / 4);
    const parent = depth === 0 ? '' : (pathAtDepth[depth - 1] ?? '');
    const path = parent === '/' ? `/${match[1]}` : `${parent}${match[1]}`;
    pathAtDepth[depth] = path;
    pathAtDepth.length = depth + 1;
    if (!path.startsWith(`${API_PREFIX}/`)) continue;
    for (const method of match[2].split(',').map((m) => m.trim())) {
      if (method !== 'HEAD') found.push(`${method} ${path}`);
    }
  }
  return found.sort();
}

describeEachDatabase(
  'OpenAPI document',
  (t) => {
    let app: FastifyInstance;
    let doc: OpenApiDocument;
    beforeAll(async () => {
      app = await buildTestApp(t.db);
      const response = await new ApiClient(app).get('/api/v1/openapi.json');
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      doc = response.body;
    });
    afterAll(async () => {
      await app?.close();
    });

    it('is valid OpenAPI 3.1 (@readme/openapi-parser)', async () => {
      expect(doc.openapi).toBe('3.1.0');
      expect(doc.info).toMatchObject({ title: 'MovR API', version: expect.any(String) });
      const result = await validate(structuredClone(doc) as never);
      expect(result.valid, JSON.stringify(result, null, 1)).toBe(true);
    });

    it('every operation has a summary, a tag and described responses with JSON bodies (except 204)', () => {
      for (const [path, item] of Object.entries(doc.paths)) {
        for (const [method, operation] of Object.entries(item)) {
          if (!METHODS.includes(method)) continue;
          const where = `${method.toUpperCase()} ${path}`;
          expect(operation.summary, where).toBeTruthy();
          expect(operation.tags?.length, where).toBeGreaterThan(0);
          expect(Object.keys(operation.responses ?? {}).length, where).toBeGreaterThan(0);
          for (const [status, response] of Object.entries(operation.responses ?? {})) {
            expect(response.description, `${where} ${status}`).toBeTruthy();
            expect(response.description, `${where} ${status}`).not.toBe('Default Response');
            if (status === '204') expect(response.content, `${where} ${status}`).toBeUndefined();
            else expect(response.content?.['application/json']?.schema, `${where} ${status}`).toBeDefined();
          }
          for (const status of ['400', '429', '500']) expect(operation.responses?.[status], `${where} ${status}`).toBeDefined();
        }
      }
    });

    it('every $ref points at a component that exists, and every component is used', () => {
      const refs = new Set<string>();
      const walk = (value: unknown): void => {
        if (Array.isArray(value)) value.forEach(walk);
        else if (typeof value === 'object' && value !== null) {
          for (const [key, child] of Object.entries(value)) {
            if (key === '$ref' && typeof child === 'string') refs.add(child);
            else walk(child);
          }
        }
      };
      walk(doc.paths);
      walk(doc.components.schemas);
      for (const ref of refs) {
        expect(ref).toMatch(/^#\/components\/schemas\//);
        expect(doc.components.schemas[ref.slice('#/components/schemas/'.length)], ref).toBeDefined();
      }
      for (const name of Object.keys(doc.components.schemas)) expect(refs.has(`#/components/schemas/${name}`), name).toBe(true);
      expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Error', 'User', 'Vehicle', 'Ride', 'PromoCode']));
    });

    it('every route registered under /api/v1 is in the document, and the document has no others', () => {
      const registered = apiRoutes(app).map((route) => `${route.method} ${route.url}`).sort();
      // apiRoutes() comes from an onRoute hook; printRoutes() is Fastify's own view of the router.
      expect(registered).toEqual(printedApiRoutes(app));
      expect(registered.length).toBeGreaterThanOrEqual(19);
      const documented = Object.entries(doc.paths)
        .flatMap(([path, item]) => Object.keys(item).filter((m) => METHODS.includes(m)).map((m) => `${m.toUpperCase()} ${path}`))
        .sort();
      expect(documented).toEqual(registered.map((r) => openApiPath(r)).sort());
      expect(Object.keys(doc.paths).every((path) => path.startsWith(`${API_PREFIX}/`))).toBe(true);
      expect(doc.paths['/healthz']).toBeUndefined();
      expect(doc.paths['/readyz']).toBeUndefined();
    });

    it('documents the routes the brief asks for', () => {
      const expected = [
        'POST /api/v1/auth/register',
        'POST /api/v1/auth/login',
        'POST /api/v1/auth/logout',
        'GET /api/v1/me',
        'PATCH /api/v1/me',
        'DELETE /api/v1/me',
        'GET /api/v1/cities',
        'GET /api/v1/vehicles',
        'GET /api/v1/vehicles/{city}/{id}',
        'POST /api/v1/vehicles',
        'DELETE /api/v1/vehicles/{city}/{id}',
        'POST /api/v1/rides',
        'GET /api/v1/rides',
        'GET /api/v1/rides/{city}/{id}',
        'POST /api/v1/rides/{city}/{id}/locations',
        'POST /api/v1/rides/{city}/{id}/end',
        'GET /api/v1/promo-codes',
        'POST /api/v1/me/promo-codes',
        'GET /api/v1/me/promo-codes',
      ];
      for (const route of expected) {
        const [method = '', path = ''] = route.split(' ');
        expect(doc.paths[path]?.[method.toLowerCase()], route).toBeDefined();
      }
    });

    it('secured routes declare bearer and cookie security, and are the ones that answer 401 without credentials', async () => {
      expect(doc.components.securitySchemes).toMatchObject({
        bearerAuth: { type: 'http', scheme: 'bearer' },
        sessionCookie: { type: 'apiKey', in: 'cookie', name: 'movr_session' },
      });
      const client = new ApiClient(app);
      for (const route of apiRoutes(app)) {
        const operation = doc.paths[openApiPath(route.url)]?.[route.method.toLowerCase()];
        const secured = (operation?.security?.length ?? 0) > 0;
        if (secured) expect(operation?.security).toEqual([{ bearerAuth: [] }, { sessionCookie: [] }]);
        if (secured) expect(operation?.responses?.['401'], `${route.method} ${route.url}`).toBeDefined();
        const url = route.url.replace(':city', 'new%20york').replace(':id', '3f1e4c2a-9b7d-4e61-8a5f-0c2d9e8b7a61');
        const response = await client.request(route.method, url);
        if (secured) expect(response.status, `${route.method} ${url}`).toBe(401);
        else expect(response.status, `${route.method} ${url}`).not.toBe(401);
      }
    });

    it('Idempotency-Key is documented on the two ride operations that honour it', () => {
      for (const [path, method] of [
        ['/api/v1/rides', 'post'],
        ['/api/v1/rides/{city}/{id}/end', 'post'],
      ] as const) {
        const header = doc.paths[path]?.[method]?.parameters?.find((p) => p.in === 'header');
        expect(header).toMatchObject({ name: 'idempotency-key', required: false });
      }
    });

    describe('/docs', () => {
      it('serves Swagger UI from self-hosted assets under the strict CSP', async () => {
        const page = await app.inject({ url: '/docs' });
        expect(page.statusCode).toBe(200);
        expect(page.headers['content-type']).toMatch(/^text\/html/);
        expect(page.body).toContain('<div id="swagger-ui"></div>');
        expect(page.body).not.toMatch(/https?:\/\//);
        expect(page.body).not.toMatch(/<script>(?!\s*<\/script>)|<style>|style="/);
        const csp = String(page.headers['content-security-policy']);
        expect(csp).toContain("script-src 'self'");
        expect(csp).toContain("style-src 'self'");
        expect(csp).not.toContain('unsafe-inline');
        const scripts = [...page.body.matchAll(/src="([^"]+)"/g)].map((m) => m[1] ?? '');
        expect(scripts.length).toBeGreaterThanOrEqual(3);
        for (const src of scripts) {
          const asset = await app.inject({ url: src });
          expect(asset.statusCode, src).toBe(200);
        }
      });

      it('/docs/json is the same document as /api/v1/openapi.json', async () => {
        const json = await app.inject({ url: '/docs/json' });
        expect(json.statusCode).toBe(200);
        expect(json.json()).toEqual(doc);
      });
    });
  },
  { open: { poolSize: 20 } },
);
