// Promo codes against the real databases: the active list with keyset pages, adding a code to
// an account (and every reason it is refused), and the user's codes with usage and expiry.
import { and, eq } from 'drizzle-orm';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { userPromoCodes } from '../../src/db/schema.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../src/movr/errors.ts';
import { DEFAULT_PRICE_LIST } from '../../src/movr/pricing.ts';
import { addPromoCode, listActivePromoCodes, listUserPromoCodes } from '../../src/movr/promo-codes.ts';
import { endRide, startRide } from '../../src/movr/rides.ts';
import type { User } from '../../src/movr/users.ts';
import { addVehicle } from '../../src/movr/vehicles.ts';
import { TEST_CITIES, createUser, insertPromoCode } from '../support/factories.ts';
import { snapshot } from '../support/snapshot.ts';
import { describeEachDatabase, emptyTables } from '../support/databases.ts';
import { expectError, minutes } from './fixtures.ts';

const NOW = new Date('2025-06-01T12:00:00.000Z');
const at = (ms: number) => new Date(NOW.getTime() + ms);
const DAY = 24 * 60 * 60 * 1000;

describeEachDatabase('promo codes', (t) => {
  let user: User;
  let other: User;
  let owner: User;

  beforeAll(async () => {
    [user, other, owner] = await Promise.all([
      createUser(t.db, { city: 'rome', name: 'Uma User' }),
      createUser(t.db, { city: 'rome', name: 'Otto Other' }),
      createUser(t.db, { city: 'rome', name: 'Owen Owner' }),
    ]);
  });

  beforeEach(async () => {
    await emptyTables(t.db, { keep: ['users', 'user_credentials'] });
  });

  async function userCodeRows(who: User) {
    return t.db.orm
      .select()
      .from(userPromoCodes)
      .where(and(eq(userPromoCodes.city, who.city), eq(userPromoCodes.userId, who.id)));
  }

  describe('listActivePromoCodes', () => {
    beforeEach(async () => {
      await insertPromoCode(t.db, 'ACTIVE-A', { percent: '10%' });
      await insertPromoCode(t.db, 'ACTIVE-B', { percent: '15%', expirationTime: at(DAY) });
      await insertPromoCode(t.db, 'ACTIVE-C', { percent: '20%', creationTime: null, expirationTime: null });
      await insertPromoCode(t.db, 'ACTIVE-D', { rules: { type: 'free_unlock', value: 'yes' }, creationTime: NOW });
      await insertPromoCode(t.db, 'ACTIVE-E', { percent: ' 12.5 % ', expirationTime: at(1) });
      await insertPromoCode(t.db, 'EXPIRED', { percent: '50%', expirationTime: at(-DAY) });
      await insertPromoCode(t.db, 'EXPIRES-NOW', { percent: '50%', expirationTime: NOW });
      await insertPromoCode(t.db, 'FUTURE', { percent: '30%', creationTime: at(DAY) });
      await insertPromoCode(t.db, 'STARTS-SOON', { percent: '30%', creationTime: at(1) });
    });

    it('lists only codes valid now, in code order, with their discount', async () => {
      const page = await listActivePromoCodes(t.db.orm, { now: NOW });
      expect(page.nextCursor).toBeNull();
      expect(page.items.map((c) => [c.code, c.percentOff])).toEqual([
        ['ACTIVE-A', 10],
        ['ACTIVE-B', 15],
        ['ACTIVE-C', 20],
        ['ACTIVE-D', 0],
        ['ACTIVE-E', 12.5],
      ]);
      expect(page.items[1]).toEqual({
        code: 'ACTIVE-B',
        description: 'ACTIVE-B description',
        creationTime: new Date('2020-01-01T00:00:00Z'),
        expirationTime: at(DAY),
        rules: { type: 'percent_discount', value: '15%' },
        percentOff: 15,
        discount: { kind: 'percent', percent: 15 },
        redemptionLimit: null,
        redemptions: 0,
        perRiderLimit: null,
        cities: null,
        regions: null,
        listed: true,
      });
    });

    it('judges validity at the given time', async () => {
      const later = await listActivePromoCodes(t.db.orm, { now: at(2 * DAY) });
      expect(later.items.map((c) => c.code)).toEqual(['ACTIVE-A', 'ACTIVE-C', 'ACTIVE-D', 'FUTURE', 'STARTS-SOON']);
      const earlier = await listActivePromoCodes(t.db.orm, { now: at(-2 * DAY) });
      expect(earlier.items.map((c) => c.code)).toEqual(['ACTIVE-A', 'ACTIVE-B', 'ACTIVE-C', 'ACTIVE-E', 'EXPIRED', 'EXPIRES-NOW']);
    });

    it('walks the active codes in keyset pages without duplicates or gaps', async () => {
      const seen: string[] = [];
      const sizes: number[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 10; pages++) {
        const page = await listActivePromoCodes(t.db.orm, { now: NOW, limit: 2, cursor });
        sizes.push(page.items.length);
        seen.push(...page.items.map((c) => c.code));
        if (page.nextCursor === null) break;
        expect(page.nextCursor).toBe(page.items.at(-1)?.code);
        cursor = page.nextCursor;
      }
      expect(sizes).toEqual([2, 2, 1]);
      expect(seen).toEqual(['ACTIVE-A', 'ACTIVE-B', 'ACTIVE-C', 'ACTIVE-D', 'ACTIVE-E']);
    });

    it('pages through many codes', async () => {
      await emptyTables(t.db, { keep: ['users', 'user_credentials'] });
      const codes = Array.from({ length: 23 }, (_, i) => `BULK-${String(i).padStart(2, '0')}`);
      for (const code of codes) await insertPromoCode(t.db, code);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await listActivePromoCodes(t.db.orm, { limit: 10, cursor });
        seen.push(...page.items.map((c) => c.code));
        cursor = page.nextCursor ?? undefined;
      } while (cursor && seen.length < 100);
      expect(seen).toEqual(codes);
    });

    it('uses the current time by default and clamps the page size', async () => {
      const page = await listActivePromoCodes(t.db.orm, { limit: 0 });
      expect(page.items).toHaveLength(1);
      expect(page.items[0]?.code).toBe('ACTIVE-A');
      expect(page.nextCursor).toBe('ACTIVE-A');
      expect((await listActivePromoCodes(t.db.orm, { now: NOW, limit: 2.5 })).items).toHaveLength(2);
      expect((await listActivePromoCodes(t.db.orm, { now: NOW, limit: Number.NaN })).items).toHaveLength(5);
    });
  });

  describe('addPromoCode', () => {
    it('adds a valid code to the account, trimmed, unused and not expired', async () => {
      await insertPromoCode(t.db, 'WELCOME', { percent: '15%', expirationTime: at(DAY) });
      const added = await addPromoCode(t.db, user, '  WELCOME ', { now: NOW });
      expect(added).toEqual({
        code: 'WELCOME',
        description: 'WELCOME description',
        creationTime: new Date('2020-01-01T00:00:00Z'),
        expirationTime: at(DAY),
        rules: { type: 'percent_discount', value: '15%' },
        percentOff: 15,
        discount: { kind: 'percent', percent: 15 },
        redemptionLimit: null,
        redemptions: 0,
        perRiderLimit: null,
        cities: null,
        regions: null,
        listed: true,
        addedAt: NOW,
        usageCount: 0,
        expired: false,
      });
      expect(await userCodeRows(user)).toEqual([{ city: 'rome', userId: user.id, code: 'WELCOME', timestamp: NOW, usageCount: 0 }]);
      expect(await userCodeRows(other)).toEqual([]);
    });

    it('refuses an unknown code and changes nothing', async () => {
      await insertPromoCode(t.db, 'WELCOME');
      const before = await snapshot(t.db);
      const error = await expectError(addPromoCode(t.db, user, 'NO-SUCH-CODE', { now: NOW }), NotFoundError, 'promo_code_not_found');
      expect(error.message).toContain('NO-SUCH-CODE');
      await expectError(addPromoCode(t.db, user, 'X'.repeat(101), { now: NOW }), NotFoundError, 'promo_code_not_found');
      expect(await snapshot(t.db)).toEqual(before);
    });

    it('refuses an expired code, also one expiring this instant, and changes nothing', async () => {
      await insertPromoCode(t.db, 'OLD', { expirationTime: at(-minutes(1)) });
      await insertPromoCode(t.db, 'JUST-NOW', { expirationTime: NOW });
      const before = await snapshot(t.db);
      await expectError(addPromoCode(t.db, user, 'OLD', { now: NOW }), ConflictError, 'promo_code_expired');
      await expectError(addPromoCode(t.db, user, 'JUST-NOW', { now: NOW }), ConflictError, 'promo_code_expired');
      expect(await snapshot(t.db)).toEqual(before);
    });

    it('refuses a code that is not valid yet and changes nothing', async () => {
      await insertPromoCode(t.db, 'SOON', { creationTime: at(minutes(1)) });
      const before = await snapshot(t.db);
      await expectError(addPromoCode(t.db, user, 'SOON', { now: NOW }), ConflictError, 'promo_code_not_active');
      expect(await snapshot(t.db)).toEqual(before);
      expect((await addPromoCode(t.db, user, 'SOON', { now: at(minutes(1)) })).code).toBe('SOON');
    });

    it('refuses a code added twice and keeps the first addition as it was', async () => {
      await insertPromoCode(t.db, 'WELCOME');
      await addPromoCode(t.db, user, 'WELCOME', { now: NOW });
      await t.db.orm.update(userPromoCodes).set({ usageCount: 3 }).where(eq(userPromoCodes.userId, user.id));
      const before = await snapshot(t.db);
      const error = await expectError(addPromoCode(t.db, user, ' WELCOME', { now: at(DAY) }), ConflictError, 'promo_code_already_added');
      expect(error.kind).toBe('conflict');
      expect(await snapshot(t.db)).toEqual(before);
      expect(await userCodeRows(user)).toMatchObject([{ timestamp: NOW, usageCount: 3 }]);
      // Another user may add the same code.
      expect((await addPromoCode(t.db, other, 'WELCOME', { now: NOW })).usageCount).toBe(0);
    });

    it('adds a code only once when two requests race', async () => {
      await insertPromoCode(t.db, 'RACE');
      const results = await Promise.allSettled([
        addPromoCode(t.db, user, 'RACE', { now: NOW }),
        addPromoCode(t.db, user, 'RACE', { now: NOW }),
        addPromoCode(t.db, user, 'RACE', { now: NOW }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) {
        if (r.status === 'rejected') {
          expect(r.reason, String(r.reason)).toBeInstanceOf(ConflictError);
          expect((r.reason as ConflictError).code).toBe('promo_code_already_added');
        }
      }
      expect(await userCodeRows(user)).toHaveLength(1);
    });

    it('refuses an empty code', async () => {
      await insertPromoCode(t.db, 'WELCOME');
      const before = await snapshot(t.db);
      for (const code of ['', '   ', '\t']) {
        const error = await expectError(addPromoCode(t.db, user, code, { now: NOW }), ValidationError, 'validation_failed');
        expect(error.fields).toEqual([{ path: 'code', message: error.message }]);
      }
      expect(await snapshot(t.db)).toEqual(before);
    });

    it('says not found for a user that does not exist', async () => {
      await insertPromoCode(t.db, 'WELCOME');
      const before = await snapshot(t.db);
      await expectError(
        addPromoCode(t.db, { city: 'rome', id: '00000000-0000-4000-8000-000000000000' }, 'WELCOME', { now: NOW }),
        NotFoundError,
        'user_not_found',
      );
      expect(await snapshot(t.db)).toEqual(before);
    });
  });

  describe('listUserPromoCodes', () => {
    it('lists the user’s codes newest first with usage counts and expiry', async () => {
      await insertPromoCode(t.db, 'AAA-TEN', { percent: '10%' });
      await insertPromoCode(t.db, 'BBB-QUARTER', { percent: '25%', expirationTime: at(DAY) });
      await insertPromoCode(t.db, 'CCC-FIVE', { percent: '5%', expirationTime: at(10 * DAY) });
      await addPromoCode(t.db, user, 'BBB-QUARTER', { now: NOW });
      await addPromoCode(t.db, user, 'AAA-TEN', { now: at(minutes(1)) });
      await addPromoCode(t.db, user, 'CCC-FIVE', { now: at(minutes(2)) });
      await addPromoCode(t.db, other, 'AAA-TEN', { now: NOW });

      // Two rides while the quarter code is valid use it twice.
      const vehicle = await addVehicle(t.db, owner, { type: 'bike', color: 'red', location: 'Colosseo' }, TEST_CITIES);
      for (const start of [at(minutes(10)), at(minutes(30))]) {
        const ride = await startRide(t.db, user, vehicle, { now: start });
        const ended = await endRide(t.db, user, ride, 'Trevi', { priceList: DEFAULT_PRICE_LIST, now: new Date(start.getTime() + minutes(5)) });
        expect(ended.receipt?.promoCode).toBe('BBB-QUARTER');
      }

      const codes = await listUserPromoCodes(t.db.orm, user, { now: at(minutes(60)) });
      expect(codes.map((c) => [c.code, c.usageCount, c.expired, c.addedAt])).toEqual([
        ['CCC-FIVE', 0, false, at(minutes(2))],
        ['AAA-TEN', 0, false, at(minutes(1))],
        ['BBB-QUARTER', 2, false, NOW],
      ]);

      // A day later the quarter code has expired; it is still listed, marked as such, and the next
      // best valid code is used instead.
      const later = at(DAY + minutes(1));
      expect((await listUserPromoCodes(t.db.orm, user, { now: later })).map((c) => [c.code, c.expired])).toEqual([
        ['CCC-FIVE', false],
        ['AAA-TEN', false],
        ['BBB-QUARTER', true],
      ]);
      const ride = await startRide(t.db, user, vehicle, { now: later });
      const ended = await endRide(t.db, user, ride, 'Pantheon', { priceList: DEFAULT_PRICE_LIST, now: new Date(later.getTime() + minutes(5)) });
      expect(ended.receipt?.promoCode).toBe('AAA-TEN');
      expect((await listUserPromoCodes(t.db.orm, user, { now: later })).map((c) => [c.code, c.usageCount])).toEqual([
        ['CCC-FIVE', 0],
        ['AAA-TEN', 1],
        ['BBB-QUARTER', 2],
      ]);
      expect((await listUserPromoCodes(t.db.orm, other, { now: later })).map((c) => [c.code, c.usageCount])).toEqual([['AAA-TEN', 0]]);
    });

    it('is empty for a user without codes', async () => {
      expect(await listUserPromoCodes(t.db.orm, user)).toEqual([]);
    });
  });
});
