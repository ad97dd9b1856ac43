// Through the web site as a browser goes: sign up a rider, log in, and keep the session cookie.
import { randomBytes } from 'node:crypto';

export const SESSION_COOKIE = 'movr_session';

function sessionCookie(response: Response): string | undefined {
  for (const header of response.headers.getSetCookie()) {
    const match = new RegExp(`^${SESSION_COOKIE}=([^;]*)`).exec(header);
    if (match) return match[1] ? `${SESSION_COOKIE}=${match[1]}` : undefined;
  }
  return undefined;
}

function csrfField(html: string): string {
  const input = /<input[^>]*name="_csrf"[^>]*>/.exec(html)?.[0];
  const value = input && /value="([^"]*)"/.exec(input)?.[1];
  if (!value) throw new Error('no _csrf field in the form');
  return value;
}

/**
 * fetch, sent again after a 503 as its Retry-After asks (a loaded machine makes MovR shed load
 * or find its hashing queue full: what a browser's user would do, a few times).
 */
async function patientFetch(url: string, init: RequestInit = {}): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(url, init);
    if (response.status !== 503 || attempt === 10) return response;
    await response.arrayBuffer();
    const seconds = Number(response.headers.get('retry-after')) || 1;
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  }
}

/** A form page: its CSRF field and the session cookie it came with. */
async function form(base: string, path: string): Promise<{ csrf: string; cookie: string }> {
  const response = await patientFetch(`${base}${path}`, { redirect: 'manual' });
  const html = await response.text();
  if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}: ${html.slice(0, 300)}`);
  const cookie = sessionCookie(response);
  if (!cookie) throw new Error(`GET ${path} set no ${SESSION_COOKIE} cookie`);
  return { csrf: csrfField(html), cookie };
}

async function post(base: string, path: string, cookie: string, fields: Record<string, string>): Promise<Response> {
  return patientFetch(`${base}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: base },
    body: new URLSearchParams(fields).toString(),
  });
}

export interface SiteRider {
  username: string;
  password: string;
  city: string;
}

/** Signs a rider up through POST /signup (a known password, which no movr command can set). */
export async function signUpThroughSite(base: string, city: string): Promise<SiteRider> {
  const username = `bench-page-${randomBytes(4).toString('hex')}`;
  const password = `Pw-${randomBytes(12).toString('base64url')}`;
  const { csrf, cookie } = await form(base, '/signup');
  const response = await post(base, '/signup', cookie, {
    name: 'Bench Page Rider',
    city,
    address: '1 Bench Street',
    username,
    password,
    cardNumber: '',
    _csrf: csrf,
  });
  await response.arrayBuffer();
  if (response.status !== 303) throw new Error(`POST /signup answered ${response.status}, not 303`);
  return { username, password, city };
}

/**
 * Logs in through GET and POST /login and returns the session cookie to send, after one visit
 * of `page` for every cookie the site replaces (the welcome message is shown once, then
 * dropped from the session), so that the cookie is the one a browser sends from then on.
 */
export async function logInThroughSite(base: string, rider: SiteRider, page: string): Promise<{ cookie: string; replacedOnVisit: boolean }> {
  const { csrf, cookie } = await form(base, '/login');
  const response = await post(base, '/login', cookie, { username: rider.username, password: rider.password, _csrf: csrf });
  await response.arrayBuffer();
  if (response.status !== 303) throw new Error(`POST /login answered ${response.status}, not 303`);
  let session = sessionCookie(response);
  if (!session) throw new Error(`POST /login set no ${SESSION_COOKIE} cookie`);
  for (let visit = 0; visit < 4; visit++) {
    const answer = await fetch(`${base}${page}`, { redirect: 'manual', headers: { cookie: session } });
    const html = await answer.text();
    if (answer.status !== 200) throw new Error(`GET ${page} while logged in answered ${answer.status}`);
    if (!/log ?out/i.test(html)) throw new Error(`GET ${page} with the session cookie does not look logged in`);
    const replaced = sessionCookie(answer);
    if (!replaced || replaced === session) return { cookie: session, replacedOnVisit: false };
    session = replaced;
  }
  return { cookie: session, replacedOnVisit: true };
}
