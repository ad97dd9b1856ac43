// Helpers for the vehicle and ride page tests, on an app built with logInAsRoutes
// (test/support/app.ts): browsers logged in as a user, and reading the pages' HTML.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { User } from '../../../src/movr/users.ts';
import { Browser, csrfFieldOf } from '../helpers.ts';

export const XSS = '<script>alert(1)</script>';
export const XSS_ESCAPED = '&lt;script&gt;alert(1)&lt;/script&gt;';

/** A valid CSRF token for the browser's session. */
export async function csrfTokenFor(browser: Browser): Promise<string> {
  const response = await browser.get('/test/csrf');
  return (response.json() as { token: string }).token;
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
