// Browser tests: a real Chromium driven by playwright-core. Only the system's Chromium is used
// (/usr/bin/chromium, from the distribution's package), never a downloaded browser.
//
// Without Chromium the browser suites are reported as skipped; with MOVR_REQUIRE_BROWSER=1 (as
// in CI) a missing Chromium fails the run instead. Screenshots go to screenshots/ at the
// repository root (git-ignored).
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { describe, it } from 'vitest';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-dev-shm-usage',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

export const SCREENSHOTS_DIR = fileURLToPath(new URL('../../screenshots/', import.meta.url));

/** Is the system Chromium installed? */
export function browserAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/** Starts headless Chromium. Close it when done (`await browser.close()`). */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

/** The path for a screenshot called `name` (e.g. 'home.png'), creating screenshots/ if needed. */
export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  return path.join(SCREENSHOTS_DIR, name);
}

/**
 * Declares a browser suite: run when Chromium is installed, skipped when it is not, or failed
 * when it is not and MOVR_REQUIRE_BROWSER=1.
 */
export function describeBrowser(title: string, suite: () => void): void {
  if (browserAvailable()) {
    describe(title, suite);
  } else if (process.env.MOVR_REQUIRE_BROWSER === '1') {
    describe(title, () => {
      it('needs Chromium', () => {
        throw new Error(
          `MOVR_REQUIRE_BROWSER=1 but there is no Chromium at ${CHROMIUM_PATH}: install it with apt-get install chromium`,
        );
      });
    });
  } else {
    describe.skip(`${title} (no Chromium at ${CHROMIUM_PATH})`, suite);
  }
}
