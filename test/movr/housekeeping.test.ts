// Housekeeping: expired idempotency keys and API tokens go, in batches; fresh ones stay.
import { beforeEach, expect, it } from 'vitest';
import { apiTokens, idempotencyKeys } from '../../src/db/schema.ts';
import { purgeExpired } from '../../src/movr/housekeeping.ts';
import { describeEachDatabase, emptyTables } from '../support/databases.ts';
import { createUser } from '../support/factories.ts';
import { countRows } from '../support/snapshot.ts';

const NOW = new Date('2026-06-01T12:00:00Z');
const HOUR = 3_600_000;

describeEachDatabase('purgeExpired', (t) => {
  beforeEach(async () => {
    await emptyTables(t.db);
  });

  it('deletes every expired key and token, a batch at a time, and nothing else', async () => {
    const user = await createUser(t.db);
    const at = (hours: number) => new Date(NOW.getTime() + hours * HOUR);
    await t.db.orm.insert(idempotencyKeys).values(
      Array.from({ length: 7 }, (_, i) => ({
        city: user.city,
        userId: user.id,
        key: `key-${i}`,
        requestHash: 'h',
        statusCode: 201,
        response: {},
        createdAt: at(-30),
        // Five expired (one exactly now), two still valid.
        expiresAt: i < 5 ? at(-i) : at(i),
      })),
    );
    await t.db.orm.insert(apiTokens).values(
      Array.from({ length: 4 }, (_, i) => ({
        city: user.city,
        userId: user.id,
        id: `00000000-0000-4000-8000-00000000000${i}`,
        createdAt: at(-48),
        expiresAt: i < 3 ? at(-1 - i) : at(5),
      })),
    );
    expect(await purgeExpired(t.db, { now: NOW, batchSize: 2 })).toEqual({ idempotencyKeys: 5, apiTokens: 3, sessions: 0 });
    expect(await countRows(t.db, 'SELECT count(*)::int AS n FROM idempotency_keys')).toBe(2);
    expect(await countRows(t.db, 'SELECT count(*)::int AS n FROM api_tokens')).toBe(1);
    expect(await purgeExpired(t.db, { now: NOW })).toEqual({ idempotencyKeys: 0, apiTokens: 0, sessions: 0 });
    expect(t.db.transactionStats.get('purge_idempotency_keys').commits).toBeGreaterThanOrEqual(3);
  });

  it('stops after maxBatches, so one run takes bounded time', async () => {
    const user = await createUser(t.db);
    await t.db.orm.insert(idempotencyKeys).values(
      Array.from({ length: 10 }, (_, i) => ({
        city: user.city,
        userId: user.id,
        key: `old-${i}`,
        requestHash: 'h',
        statusCode: 201,
        response: {},
        createdAt: new Date(NOW.getTime() - 48 * HOUR),
        expiresAt: new Date(NOW.getTime() - HOUR),
      })),
    );
    expect((await purgeExpired(t.db, { now: NOW, batchSize: 3, maxBatches: 2 })).idempotencyKeys).toBe(6);
    expect(await countRows(t.db, 'SELECT count(*)::int AS n FROM idempotency_keys')).toBe(4);
  });
});
