// Helpers for the JSON API tests: an API client that checks every response against the zod
// schema its route declares, and users with tokens. Apps, rows and snapshots come from
// test/support/.
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { z } from 'zod';
import type { Database } from '../../src/db/connect.ts';
import { issueToken, tokenSigningKey } from '../../src/movr/api-tokens.ts';
import { type ApiRoute, apiRoutes } from '../../src/web/api/index.ts';
import { ErrorBodySchema } from '../../src/web/api/schemas.ts';
import { TEST_SECRET_KEY } from '../support/config.ts';
import { TEST_PASSWORD, createUserRow, uniqueUsername } from '../support/factories.ts';

/** The key the test apps sign bearer tokens with (derived from TEST_SECRET_KEY, as the app does). */
export const TOKEN_KEY = tokenSigningKey(TEST_SECRET_KEY);

// ---------------------------------------------------------------------------------------------
// Routes and their schemas

function patternOf(url: string): RegExp {
  const source = url
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}$`);
}

/** The API route that serves this method and URL (static routes win over parametric ones). */
export function routeFor(app: FastifyInstance, method: string, url: string): ApiRoute | undefined {
  const pathname = url.split('?', 1)[0] ?? '';
  const candidates = apiRoutes(app).filter((route) => route.method === method.toUpperCase() && patternOf(route.url).test(pathname));
  return candidates.sort((a, b) => a.url.split(':').length - b.url.split(':').length)[0];
}

/** The zod schema a route declares for a status code. */
export function responseSchema(route: ApiRoute, status: number): z.ZodType | undefined {
  const response = route.schema?.response as Record<string, z.ZodType> | undefined;
  return response?.[String(status)];
}

export interface ApiResponse {
  status: number;
  /** The parsed JSON body; undefined when empty. */
  body: any;
  headers: LightMyRequestResponse['headers'];
  raw: LightMyRequestResponse;
}

/**
 * Checks a response against its route's declared schema: the status must be declared and the
 * body must parse. Answers outside any route (404) must have the error shape.
 */
export function checkAgainstSchema(app: FastifyInstance, method: string, url: string, response: LightMyRequestResponse): void {
  const route = routeFor(app, method, url);
  const where = `${method} ${url} → ${response.statusCode}: ${response.body.slice(0, 500)}`;
  if (response.statusCode >= 400) {
    expect(response.headers['content-type'], where).toMatch(/^application\/json/);
    expect(ErrorBodySchema.safeParse(response.json()).success, where).toBe(true);
  }
  if (!route) {
    expect(response.statusCode, `no API route for ${where}`).toBe(404);
    return;
  }
  const schema = responseSchema(route, response.statusCode);
  expect(schema, `status not declared for ${route.method} ${route.url}: ${where}`).toBeDefined();
  const body = response.body === '' ? undefined : (JSON.parse(response.body) as unknown);
  const parsed = schema?.safeParse(body);
  expect(parsed?.success, `${where}\n${parsed?.error?.message ?? ''}`).toBe(true);
}

let ipCounter = 0;
/** A client IP of its own, so the per-IP limits of one test do not touch another's. */
export function uniqueIp(): string {
  ipCounter++;
  return `10.${(ipCounter >> 16) & 255}.${(ipCounter >> 8) & 255}.${ipCounter & 255}`;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** Sent as JSON unless `raw`. */
  body?: unknown;
  /** A raw payload, sent as is (set content-type yourself). */
  raw?: string | Buffer;
}

/** Calls the API through app.inject() as one client (one IP, optionally a token or cookie). */
export class ApiClient {
  constructor(
    readonly app: FastifyInstance,
    readonly options: { token?: string; cookie?: string; ip?: string } = {},
  ) {
    this.ip = options.ip ?? uniqueIp();
  }

  readonly ip: string;

  withToken(token: string | undefined): ApiClient {
    return new ApiClient(this.app, { ...this.options, token, ip: this.ip });
  }

  async request(method: string, url: string, options: RequestOptions = {}): Promise<ApiResponse> {
    const headers: Record<string, string> = {};
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    if (this.options.cookie) headers.cookie = this.options.cookie;
    let payload: string | Buffer | undefined;
    if (options.raw !== undefined) payload = options.raw;
    else if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    Object.assign(headers, options.headers);
    const inject: InjectOptions = {
      method: method as InjectOptions['method'],
      url,
      headers,
      remoteAddress: this.ip,
      ...(payload === undefined ? {} : { payload }),
    };
    const raw = await this.app.inject(inject);
    checkAgainstSchema(this.app, method, url, raw);
    return {
      status: raw.statusCode,
      body: raw.body === '' ? undefined : JSON.parse(raw.body),
      headers: raw.headers,
      raw,
    };
  }

  get(url: string, options?: RequestOptions) {
    return this.request('GET', url, options);
  }

  post(url: string, body?: unknown, options: RequestOptions = {}) {
    return this.request('POST', url, { ...options, body });
  }

  patch(url: string, body?: unknown, options: RequestOptions = {}) {
    return this.request('PATCH', url, { ...options, body });
  }

  delete(url: string, options?: RequestOptions) {
    return this.request('DELETE', url, options);
  }
}

/** The body's error code, for terse assertions. */
export function errorCode(response: ApiResponse): string | undefined {
  return response.body?.error?.code;
}

// ---------------------------------------------------------------------------------------------
// Users

export interface TestUser {
  id: string;
  city: string;
  username: string | null;
  token: string;
  client: ApiClient;
}

/** Registers and logs in through the API with TEST_PASSWORD (argon2: tens of milliseconds). */
export async function registeredUser(
  app: FastifyInstance,
  overrides: { city?: string; name?: string; username?: string } = {},
): Promise<TestUser> {
  const anonymous = new ApiClient(app);
  const username = overrides.username ?? uniqueUsername();
  const registered = await anonymous.post('/api/v1/auth/register', {
    username,
    password: TEST_PASSWORD,
    name: overrides.name ?? 'Test Rider',
    city: overrides.city ?? 'new york',
    address: '1 Main Street',
  });
  expect(registered.status, JSON.stringify(registered.body)).toBe(201);
  const login = await anonymous.post('/api/v1/auth/login', { username, password: TEST_PASSWORD });
  expect(login.status, JSON.stringify(login.body)).toBe(200);
  return {
    id: registered.body.user.id,
    city: registered.body.user.city,
    username,
    token: login.body.token,
    client: anonymous.withToken(login.body.token),
  };
}

/** A user row with a token but no credentials: fast, for tests that need many riders. */
export async function quickUser(app: FastifyInstance, db: Database, city = 'new york', name = 'Quick Rider'): Promise<TestUser> {
  const { id } = await createUserRow(db, { city, name, address: '2 Side Street' });
  const { token } = await issueToken(db, { city, id }, TOKEN_KEY);
  return { id, city, username: null, token, client: new ApiClient(app, { token }) };
}

/** `/api/v1/…/{city}/{id}` with the city URL-encoded. */
export function cityPath(prefix: string, city: string, id: string, suffix = ''): string {
  return `/api/v1/${prefix}/${encodeURIComponent(city)}/${id}${suffix}`;
}
