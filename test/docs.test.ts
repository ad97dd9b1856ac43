// The documentation names what the code has: every error code in docs/api.md.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/web/errors.ts';

describe('docs/api.md', () => {
  const text = readFileSync(new URL('../docs/api.md', import.meta.url), 'utf8');

  it('lists every error code the API can answer with', () => {
    const missing = ERROR_CODES.filter((code) => !text.includes(`\`${code}\``));
    expect(missing).toEqual([]);
    expect(ERROR_CODES.length).toBeGreaterThan(30);
  });
});
