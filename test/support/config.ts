// The one test configuration: NODE_ENV=test, silent logs, and a throwaway MOVR_HOME per call
// (removed after the test file by setup.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Config, parseConfig } from '../../src/config.ts';

/** The secret key of every test app (sessions and bearer tokens). */
export const TEST_SECRET_KEY = 'movr-test-secret-key-0123456789abcdefghijkl';

const homes: string[] = [];

/** A new, empty MOVR_HOME folder, removed after the test file (for a server in another process). */
export function testHome(): string {
  const home = mkdtempSync(path.join(tmpdir(), 'movr-test-home-'));
  homes.push(home);
  return home;
}

/**
 * A configuration for tests, with `env` on top of the test defaults. MOVR_HOME is a new
 * testHome() unless `env` names one.
 */
export function testConfig(env: Record<string, string | undefined> = {}): Config {
  // Load shedding off unless a test asks for it: the test files share two cores, and a lagging
  // event loop there is the neighbours' doing, not an overloaded app.
  return parseConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', MOVR_MAX_EVENT_LOOP_DELAY_MS: '0', ...env, MOVR_HOME: env.MOVR_HOME ?? testHome() });
}

/** Removes the MOVR_HOME folders testHome and testConfig made. */
export function removeTestHomes(): void {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
}
