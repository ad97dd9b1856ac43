// Helpers for driving the web app with app.inject(): a cookie jar that follows Set-Cookie the
// way a browser does (for the cookies these tests care about), and Set-Cookie parsing.
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';

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
