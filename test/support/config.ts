// The one test configuration: NODE_ENV=test, silent logs, and a throwaway MOVR_HOME per call
// (removed after the test file by setup.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Config, parseConfig } from '../../src/config.ts';

/** The secret key of every test app (sessions and bearer tokens). */
export const TEST_SECRET_KEY = 'movr-test-secret-key-0123456789abcdefghijkl';

const homes: string[] = [];

/** A configuration for tests, with `env` on top of the test defaults. */
export function testConfig(env: Record<string, string> = {}): Config {
  const home = mkdtempSync(path.join(tmpdir(), 'movr-test-home-'));
  homes.push(home);
  return parseConfig({ NODE_ENV: 'test', MOVR_HOME: home, LOG_LEVEL: 'silent', ...env });
}

/** Removes the MOVR_HOME folders testConfig made. */
export function removeTestHomes(): void {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
}
