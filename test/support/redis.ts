// Redis for tests: the server of MOVR_TEST_REDIS_URL (or MOVR_REDIS_URL), checked once by
// global-setup.ts. Without one, tests that need it are reported as skipped; with
// MOVR_REQUIRE_REDIS=1 the run fails instead. Each test uses its own key prefix and deletes only
// its own keys: the shared Redis is never flushed.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, inject } from 'vitest';

export function testRedisUrl(): string | undefined {
  return inject('redisUrl');
}

/** describe, or describe.skip when there is no test Redis. */
export const describeWithRedis: typeof describe = ((...args: Parameters<typeof describe>) =>
  (testRedisUrl() === undefined ? describe.skip : describe)(...args)) as typeof describe;

/** A key prefix no other test uses. */
export function testRedisPrefix(): string {
  return `movr-test:${randomBytes(6).toString('hex')}:`;
}

/** Deletes the keys under a prefix (SCAN, never FLUSHDB). */
export async function deleteRedisKeys(prefix: string): Promise<void> {
  const url = testRedisUrl();
  if (!url) return;
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}
