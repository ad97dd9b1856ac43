import { describe, expect, it } from 'vitest';
import { loginPath, safeNextPath } from '../../src/web/plugins/auth.ts';
import { isCsrfExempt, routeNeedsCsrf } from '../../src/web/plugins/csrf.ts';
import { deriveSessionKey } from '../../src/web/plugins/sessions.ts';

describe('safeNextPath', () => {
  it('honours paths on this site', () => {
    for (const path of ['/', '/rides', '/rides?page=2&sort=new', '/cities/new%20york/vehicles', '/a/b#c', '/%2F%2Fevil.example']) {
      expect(safeNextPath(path)).toBe(path);
    }
  });

  it('refuses anything that could lead to another site', () => {
    for (const value of [
      '//evil.example',
      '//evil.example/rides',
      '///evil.example',
      '/\\evil.example',
      '/\\/evil.example',
      'https://evil.example',
      'http://evil.example/rides',
      'HTTPS://evil.example',
      'javascript:alert(1)',
      'data:text/html,hi',
      'evil.example',
      'rides',
      '',
      ' /rides',
      '/\t/evil.example',
      '/\n/evil.example',
      '/rides\r\nSet-Cookie: x=y',
      `/${'a'.repeat(2001)}`,
      undefined,
      null,
      42,
      ['/rides'],
    ]) {
      expect(safeNextPath(value), String(value)).toBeUndefined();
    }
  });

  it('builds the login address with a safe next only', () => {
    expect(loginPath()).toBe('/login');
    expect(loginPath('/')).toBe('/login');
    expect(loginPath('/rides?page=2')).toBe('/login?next=%2Frides%3Fpage%3D2');
    expect(loginPath('//evil.example')).toBe('/login');
    expect(loginPath('https://evil.example')).toBe('/login');
  });
});

describe('CSRF scope', () => {
  it('exempts the JSON API only', () => {
    expect(isCsrfExempt('/api/rides')).toBe(true);
    expect(isCsrfExempt('/api')).toBe(true);
    expect(isCsrfExempt('/api/rides?x=1')).toBe(true);
    expect(isCsrfExempt('/apiary')).toBe(false);
    expect(isCsrfExempt('/login')).toBe(false);
    expect(isCsrfExempt('/rides/api/x')).toBe(false);
  });

  it('checks every method that changes something, on the HTML site', () => {
    expect(routeNeedsCsrf({ method: 'POST', url: '/login' })).toBe(true);
    expect(routeNeedsCsrf({ method: ['PUT', 'DELETE'], url: '/x' })).toBe(true);
    expect(routeNeedsCsrf({ method: 'PATCH', url: '/x' })).toBe(true);
    expect(routeNeedsCsrf({ method: 'GET', url: '/login' })).toBe(false);
    expect(routeNeedsCsrf({ method: ['GET', 'HEAD'], url: '/' })).toBe(false);
    expect(routeNeedsCsrf({ method: 'OPTIONS', url: '/' })).toBe(false);
    expect(routeNeedsCsrf({ method: 'POST', url: '/api/rides' })).toBe(false);
    expect(routeNeedsCsrf({ method: 'POST', url: '/webhook', config: { csrf: false } })).toBe(false);
  });
});

describe('deriveSessionKey', () => {
  it('derives a stable 32-byte key per secret', () => {
    const a = deriveSessionKey('a'.repeat(32));
    expect(a).toHaveLength(32);
    expect(deriveSessionKey('a'.repeat(32)).equals(a)).toBe(true);
    expect(deriveSessionKey('b'.repeat(32)).equals(a)).toBe(false);
  });
});
