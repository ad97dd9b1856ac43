// Shared set-up for the vehicle and ride page tests: an app with a test-only log-in route,
// riders signed up through the domain, vehicles inserted as rows, and whole-database snapshots
// to prove that a refused request changed nothing.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { type Config, parseConfig } from '../../../src/config.ts';
import type { Database } from '../../../src/db/connect.ts';
import { TABLE_NAMES_CHILDREN_FIRST, vehicles } from '../../../src/db/schema.ts';
import type { User } from '../../../src/movr/users.ts';
import { createUser, uniqueUsername } from '../../support/factories.ts';
import { buildApp } from '../../../src/web/app.ts';
import { logIn } from '../../../src/web/plugins/auth.ts';
import { Browser, csrfFieldOf } from '../helpers.ts';

export const SECRET = 'riding-pages-test-secret-key-0123456789abcdef';
export const PASSWORD = 'Tr0mbone-Lantern-42';
export const XSS = '<script>alert(1)</script>';
export const XSS_ESCAPED = '&lt;script&gt;alert(1)&lt;/script&gt;';

const homes: string[] = [];

export function testConfig(env: Record<string, string> = {}): Config {
  const home = mkdtempSync(path.join(tmpdir(), 'movr-pages-'));
  homes.push(home);
  return parseConfig({ NODE_ENV: 'test', MOVR_HOME: home, LOG_LEVEL: 'silent', ...env });
}

export function removeTestHomes(): void {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
}

/**
 * The real app plus one test-only route, GET /test/log-in-as/:city/:id, that logs the browser in
 * as that user (the way the log-in page will, without a password).
 */
export async function testApp(db: Database, env: Record<string, string> = {}): Promise<FastifyInstance> {
  const app = await buildApp({ config: testConfig(env), db, secretKey: SECRET, logger: false });
  await app.register(async (testRoutes) => {
    testRoutes.get('/test/log-in-as/:city/:id', async (request, reply) => {
      const { city, id } = request.params as { city: string; id: string };
      logIn(request, { id, city });
      return reply.redirect('/', 303);
    });
    // A CSRF token for this session, for visitors (whose pages here have no POST form).
    testRoutes.get('/test/csrf', async (_request, reply) => ({ token: reply.generateCsrf() }));
  });
  await app.ready();
  return app;
}

/** A valid CSRF token for the browser's session. */
export async function csrfTokenFor(browser: Browser): Promise<string> {
  const response = await browser.get('/test/csrf');
  return (response.json() as { token: string }).token;
}

export async function newRider(db: Database, city = 'new york', name = 'Test Rider'): Promise<User> {
  return createUser(db, { username: uniqueUsername('rider'), city, name, address: null });
}

/** A browser logged in as the user; `csrf` is a token from a page it was shown. */
export interface Rider {
  user: User;
  browser: Browser;
  csrf: string;
}

export async function logInAs(app: FastifyInstance, user: User): Promise<Rider> {
  const browser = new Browser(app);
  const login = await browser.get(`/test/log-in-as/${encodeURIComponent(user.city)}/${user.id}`);
  expect(login.statusCode).toBe(303);
  const home = await browser.get('/');
  const csrf = csrfFieldOf(home.body);
  if (!csrf) throw new Error('no CSRF token on the home page');
  return { user, browser, csrf };
}

export interface VehicleRowInput {
  city?: string;
  type?: string;
  status?: string;
  ownerId?: string | null;
  location?: string;
  color?: string;
  brand?: string;
  id?: string;
  creationTime?: Date;
}

export async function insertVehicle(db: Database, input: VehicleRowInput = {}): Promise<string> {
  const id = input.id ?? randomUUID();
  await db.orm.insert(vehicles).values(vehicleValues({ ...input, id }));
  return id;
}

export function vehicleValues(input: VehicleRowInput & { id: string }) {
  return {
    id: input.id,
    city: input.city ?? 'new york',
    type: input.type ?? 'scooter',
    ownerId: input.ownerId ?? null,
    status: input.status ?? 'available',
    creationTime: input.creationTime ?? new Date(),
    currentLocation: input.location ?? '1 Main St',
    ext: input.brand ? { color: input.color ?? 'red', brand: input.brand } : { color: input.color ?? 'red' },
  };
}

/** Every row of every MovR table, as JSON text, in a stable order. */
export async function snapshot(db: Database): Promise<Record<string, string[]>> {
  const result: Record<string, string[]> = {};
  for (const table of TABLE_NAMES_CHILDREN_FIRST) {
    const rows = await db.execute(`SELECT to_jsonb(t)::text AS row FROM ${table} t ORDER BY 1`);
    result[table] = rows.map((r) => String(r.row));
  }
  return result;
}

export async function queryOne(db: Database, sqlText: string, params: unknown[] = []): Promise<Record<string, unknown> | undefined> {
  const rows = await db.execute(sqlText, params);
  return rows[0];
}

export async function countRows(db: Database, sqlText: string, params: unknown[] = []): Promise<number> {
  return Number((await queryOne(db, sqlText, params))?.n);
}

/** The location of a redirect. */
export function locationOf(response: LightMyRequestResponse): string {
  const location = response.headers.location;
  return typeof location === 'string' ? location : '';
}

/** The texts of the flash messages on a page. */
export function flashesOf(html: string): string[] {
  return [...html.matchAll(/<div class="flash flash--\w+"[^>]*>\s*<p>([\s\S]*?)<\/p>/g)].map((m) => m[1] ?? '');
}

/** Follows a redirect with the same browser and returns the page. */
export async function follow(browser: Browser, response: LightMyRequestResponse): Promise<LightMyRequestResponse> {
  expect(response.statusCode, response.body.slice(0, 300)).toBe(303);
  return browser.get(locationOf(response));
}

/** Times a page shows as <time datetime>, in page order. */
export function timesOf(html: string): string[] {
  return [...html.matchAll(/<time[^>]*datetime="([^"]+)"/g)].map((m) => m[1] ?? '');
}

/** ids of the vehicle rows on a page (data-vehicle-id), in page order. */
export function vehicleIdsOf(html: string): string[] {
  return [...html.matchAll(/data-vehicle-id="([^"]+)"/g)].map((m) => m[1] ?? '');
}

/** The href of the link with rel="next", HTML entities decoded. */
export function nextHrefOf(html: string): string | undefined {
  const href = /<a [^>]*href="([^"]+)"[^>]*rel="next"/.exec(html)?.[1];
  return href?.replaceAll('&amp;', '&').replaceAll('&#38;', '&');
}

export function decodeEntities(text: string): string {
  return text
    .replaceAll('&#39;', "'")
    .replaceAll('&quot;', '"')
    .replaceAll('&#34;', '"')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&#38;', '&')
    .replaceAll('&amp;', '&');
}
