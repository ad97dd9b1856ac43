import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveSecretKey, SECRET_KEY_FILE } from '../../src/web/secret-key.ts';
import { testConfig, testHome } from '../support/config.ts';

describe('resolveSecretKey', () => {
  /** A MOVR_HOME that does not exist yet, inside a folder removed after the file. */
  const tempHome = () => path.join(testHome(), 'nested', 'home');

  it('creates a random key file once (mode 0600) and reuses it', () => {
    const home = tempHome();
    const config = testConfig({ MOVR_HOME: home });
    const first = resolveSecretKey(config);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    const file = path.join(home, SECRET_KEY_FILE);
    expect(readFileSync(file, 'utf8').trim()).toBe(first);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(resolveSecretKey(config)).toBe(first);
    expect(resolveSecretKey(testConfig({ MOVR_HOME: home }))).toBe(first);
    // Another home gets another key.
    expect(resolveSecretKey(testConfig({ MOVR_HOME: tempHome() }))).not.toBe(first);
  });

  it('uses SECRET_KEY when set and writes no file', () => {
    const home = tempHome();
    const secret = 's'.repeat(40);
    expect(resolveSecretKey(testConfig({ MOVR_HOME: home, SECRET_KEY: secret }))).toBe(secret);
    expect(() => statSync(path.join(home, SECRET_KEY_FILE))).toThrow();
  });

  it('refuses a key file that is too short', () => {
    const home = tempHome();
    const config = testConfig({ MOVR_HOME: home });
    resolveSecretKey(config);
    writeFileSync(path.join(home, SECRET_KEY_FILE), 'short\n');
    expect(() => resolveSecretKey(config)).toThrow(/shorter than 32/);
  });
});
