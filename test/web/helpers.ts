// Helpers for driving the web app with app.inject() as a browser would: a cookie jar that follows
// Set-Cookie (for the cookies these tests care about), Set-Cookie parsing, logging in through the
// form, and reading forms (CSRF tokens, field messages, typed values).
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { TEST_PASSWORD } from '../support/factories.ts';

export const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

export interface SetCookie {
  name: string;
  value: string;
  /** Attribute names lower-cased; flags (HttpOnly, Secure) map to ''. */
  attributes: Record<string, string>;
}

/** The Set-Cookie headers of a response, parsed. */
export function setCookies(response: LightMyRequestResponse): SetCookie[] {
  const header = response.headers['set-cookie'];
  const lines = header === undefined ? [] : Array.isArray(header) ? header : [header];
  return lines.map((line) => {
    const [pair = '', ...attributes] = line.split(';');
    const index = pair.indexOf('=');
    return {
      name: pair.slice(0, index).trim(),
      value: pair.slice(index + 1).trim(),
      attributes: Object.fromEntries(
        attributes.map((attribute) => {
          const [name = '', ...value] = attribute.split('=');
          return [name.trim().toLowerCase(), value.join('=').trim()];
        }),
      ),
    };
  });
}

/** The Set-Cookie of one cookie, if the response set (or deleted) it. */
export function setCookie(response: LightMyRequestResponse, name: string): SetCookie | undefined {
  return setCookies(response).find((cookie) => cookie.name === name);
}

/** A browser's cookie jar for one site, as far as these tests need one. */
export class Browser {
  readonly cookies = new Map<string, string>();

  constructor(private readonly app: FastifyInstance) {}

  async request(options: InjectOptions): Promise<LightMyRequestResponse> {
    const headers: Record<string, string> = { accept: BROWSER_ACCEPT, ...(options.headers as Record<string, string>) };
    if (this.cookies.size > 0) {
      headers.cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    }
    const response = await this.app.inject({ ...options, headers });
    for (const cookie of setCookies(response)) {
      if (cookie.attributes['max-age'] === '0' || cookie.value === '') this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
    return response;
  }

  get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return this.request({ method: 'GET', url, headers });
  }

  /** POSTs an urlencoded form, as a browser submits one. */
  postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
    return this.request({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      payload: new URLSearchParams(fields).toString(),
    });
  }
}

/** The value of the first hidden `_csrf` field in a page. */
export function csrfFieldOf(html: string): string | undefined {
  return /name="_csrf" value="([^"]*)"/.exec(html)?.[1];
}

/** GETs a page and returns the CSRF token of its forms (fails the test if there is none). */
export async function formTokenOf(browser: Browser, url: string): Promise<string> {
  const response = await browser.get(url);
  const token = csrfFieldOf(response.body);
  if (!token) throw new Error(`no CSRF token on ${url} (status ${response.statusCode})`);
  return token;
}

/** A new browser, logged in through the log-in form. */
export async function loggedInBrowser(app: FastifyInstance, username: string, password = TEST_PASSWORD): Promise<Browser> {
  const browser = new Browser(app);
  const response = await browser.postForm('/login', { username, password, _csrf: await formTokenOf(browser, '/login') });
  if (response.statusCode !== 303) throw new Error(`log-in as ${username} failed: ${response.statusCode}`);
  return browser;
}

/** The message shown under a form field (the field partial's markup), or undefined. */
export function fieldErrorOf(html: string, name: string): string | undefined {
  const id = `field-${name.replace(/[^A-Za-z0-9_-]/g, '-')}-error`;
  const match = new RegExp(`id="${id}"><span class="visually-hidden">Error: </span>([^<]*)</p>`).exec(html);
  return match?.[1];
}

/** The value attribute of a form input by name, as written in the page (still HTML-escaped), or undefined. */
export function inputValueOf(html: string, name: string): string | undefined {
  const tag = new RegExp(`<input[^>]*\\sname="${name}"[^>]*>`).exec(html)?.[0];
  return tag === undefined ? undefined : /\svalue="([^"]*)"/.exec(tag)?.[1];
}
