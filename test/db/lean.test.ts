// The lean read path (src/db/lean.ts) on both databases: rows read from text fields as the
// statement's row function makes them, inside and outside transactions, and a failed
// statement leaving the pool usable.
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { leanCount, leanRows, leanStatement, placeholder, textJson, textTimestamp } from '../../src/db/lean.ts';
import { rides, vehicles } from '../../src/db/schema.ts';
import { runTransaction } from '../../src/db/transaction.ts';
import { describeEachDatabase, emptyTables } from '../support/databases.ts';

describe('textTimestamp', () => {
  it('reads a TIMESTAMP column’s text as UTC, to the millisecond, as node-postgres does', () => {
    expect(textTimestamp(null)).toBeNull();
    expect(textTimestamp('2026-05-01 10:00:00')?.toISOString()).toBe('2026-05-01T10:00:00.000Z');
    expect(textTimestamp('2026-05-01 10:00:00.1')?.toISOString()).toBe('2026-05-01T10:00:00.100Z');
    expect(textTimestamp('2026-05-01 10:00:00.57')?.toISOString()).toBe('2026-05-01T10:00:00.570Z');
    expect(textTimestamp('2026-05-01 10:00:00.999999')?.toISOString()).toBe('2026-05-01T10:00:00.999Z');
    expect(textTimestamp('1999-12-31 23:59:59.0005')?.toISOString()).toBe('1999-12-31T23:59:59.000Z');
  });

  it('reads the rarer layouts too: early years and an offset', () => {
    expect(textTimestamp('0099-01-01 00:00:00')?.toISOString()).toBe('0099-01-01T00:00:00.000Z');
    expect(textTimestamp('2026-05-01 10:00:00.5+02:00')?.toISOString()).toBe('2026-05-01T08:00:00.500Z');
  });

  it('agrees with Date’s own parser on every millisecond of a second', () => {
    for (let ms = 0; ms < 1000; ms++) {
      for (const digits of [1, 2, 3, 6]) {
        const fraction = `${String(ms).padStart(3, '0')}789`.slice(0, digits);
        const expected = new Date(`2026-05-01T10:00:00.${fraction.slice(0, 3)}Z`).getTime();
        expect(textTimestamp(`2026-05-01 10:00:00.${fraction}`)!.getTime()).toBe(expected);
      }
    }
  });
});

describe('textJson', () => {
  it('parses JSON text and keeps null', () => {
    expect(textJson(null)).toBeNull();
    expect(textJson('{"color":"red","n":[1,null]}')).toEqual({ color: 'red', n: [1, null] });
  });
});

const VEHICLE_ID = '33333333-3333-4333-8333-333333333333';

const vehicleAt = leanStatement(
  'movr_test_lean_vehicle',
  (db) =>
    db
      .select({ id: vehicles.id, city: vehicles.city, creationTime: vehicles.creationTime, ext: vehicles.ext, status: vehicles.status })
      .from(vehicles)
      .where(sql`${vehicles.city} = ${placeholder('city')} and ${vehicles.id} = ${placeholder('id')}`),
  ([id, city, creationTime, ext, status]) => ({ id, city, creationTime: textTimestamp(creationTime ?? null), ext: textJson(ext ?? null), status }),
);

describeEachDatabase('lean statements', (t) => {
  it('read rows as their row function makes them, on the database and in a transaction', async () => {
    await emptyTables(t.db);
    const creationTime = new Date('2026-02-03T04:05:06.789Z');
    await t.db.orm.insert(vehicles).values({ id: VEHICLE_ID, city: 'rome', creationTime, ext: { color: 'green', quote: 'a "b" \\ c' } });
    const expected = { id: VEHICLE_ID, city: 'rome', creationTime, ext: { color: 'green', quote: 'a "b" \\ c' }, status: null };

    expect(await leanRows(t.db.orm, vehicleAt, { city: 'rome', id: VEHICLE_ID })).toEqual([expected]);
    expect(await leanRows(t.db.orm, vehicleAt, { city: 'paris', id: VEHICLE_ID })).toEqual([]);
    const inside = await runTransaction(t.db, 'lean_read', (tx) => leanRows(tx, vehicleAt, { city: 'rome', id: VEHICLE_ID }));
    expect(inside).toEqual([expected]);
  });

  it('count rows without reading them', async () => {
    await emptyTables(t.db);
    await t.db.orm.insert(vehicles).values([1, 2, 3].map((n) => ({ id: `4444444${n}-4444-4444-8444-444444444444`, city: 'boston' })));
    const statement = { name: 'movr_test_lean_count', text: 'select id from vehicles where city = $1' };
    expect(await leanCount(t.db.orm, statement, ['boston'])).toBe(3);
    expect(await leanCount(t.db.orm, statement, ['rome'])).toBe(0);
  });

  it.skipIf(t.kind === 'pglite')('leave no timer behind: node-postgres’s query timeout is cleared when a statement ends', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const statement = { name: 'movr_test_lean_timers', text: 'select id from vehicles where city = $1' };
    await leanCount(t.db.orm, statement, ['rome']);
    const before = timers();
    for (let i = 0; i < 50; i++) await leanCount(t.db.orm, statement, ['rome']);
    await leanCount(t.db.orm, { name: 'movr_test_lean_timers_broken', text: 'select 1 from no_such_table where $1::text is not null' }, ['x']).catch(() => {});
    expect(timers() - before).toBeLessThan(5);
  });

  it('reject with the database’s error and leave the database usable', async () => {
    const broken = { name: 'movr_test_lean_broken', text: 'select 1 from no_such_table where $1::text is not null' };
    const failure = await leanCount(t.db.orm, broken, ['x']).catch((error: unknown) => error);
    expect((failure as { code?: string }).code).toBe('42P01');
    // Every pooled connection still answers, lean or not.
    const counts = await Promise.all(Array.from({ length: 8 }, () => leanCount(t.db.orm, { name: 'movr_test_lean_rides', text: 'select id from rides where city = $1' }, ['rome'])));
    expect(counts).toEqual(Array(8).fill(0));
    expect((await t.db.orm.select({ id: rides.id }).from(rides).limit(1)).length).toBe(0);
  });
});
