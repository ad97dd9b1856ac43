// Promo campaigns: operators' codes with rules (percent or fixed, start and expiry, limits,
// cities or regions, listing), redeemed transactionally, and applied within the per-rider limit.
import { eq } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import { promoCodes, userPromoCodes } from '../../src/db/schema.ts';
import { ConflictError, ValidationError, isDomainError } from '../../src/movr/errors.ts';
import type { Operator } from '../../src/movr/operators.ts';
import { DEFAULT_PRICE_LIST } from '../../src/movr/pricing.ts';
import {
  addPromoCode,
  campaignState,
  createCampaign,
  endCampaign,
  listActivePromoCodes,
  listCampaigns,
  listUserPromoCodes,
  updateCampaign,
} from '../../src/movr/promo-codes.ts';
import { endRide } from '../../src/movr/rides.ts';
import { DEFAULT_REGION_MAP } from '../../src/region-map.ts';
import { createRide, createUserRow } from '../support/factories.ts';
import { describeEachDatabase, emptyTables } from '../support/databases.ts';

const regions = DEFAULT_REGION_MAP;
const OPERATOR: Operator = { city: 'new york', id: '5b0d6a3e-1c2f-4d7e-9a8b-0c1d2e3f4a5b', username: 'olga' };
const HOUR = 3_600_000;

describeEachDatabase('promo campaigns', (t) => {
  beforeEach(async () => {
    await emptyTables(t.db);
  });

  it('8 riders redeem a code with a limit of 1 at the same moment: exactly one succeeds', async () => {
    await createCampaign(t.db, OPERATOR, { code: 'ONLY-ONE', discountType: 'percent', percentOff: 50, redemptionLimit: 1 }, { regions });
    const riders = await Promise.all(Array.from({ length: 8 }, () => createUserRow(t.db, { city: 'new york' })));
    const results = await Promise.allSettled(riders.map((rider) => addPromoCode(t.db, rider, 'ONLY-ONE')));
    const succeeded = results.filter((result) => result.status === 'fulfilled');
    const refused = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
    expect(succeeded).toHaveLength(1);
    expect(refused).toHaveLength(7);
    for (const error of refused) expect(isDomainError(error, 'promo_code_exhausted'), String(error)).toBe(true);
    const [row] = await t.db.orm.select().from(promoCodes).where(eq(promoCodes.code, 'ONLY-ONE'));
    expect(row?.redemptions).toBe(1);
    expect(await t.db.orm.select().from(userPromoCodes).where(eq(userPromoCodes.code, 'ONLY-ONE'))).toHaveLength(1);
  });

  it('a limit of 3 among 8 concurrent riders: exactly three', async () => {
    await createCampaign(t.db, OPERATOR, { code: 'THREE', discountType: 'fixed', fixedOffCents: 100, redemptionLimit: 3 }, { regions });
    const riders = await Promise.all(Array.from({ length: 8 }, () => createUserRow(t.db, { city: 'boston' })));
    const results = await Promise.allSettled(riders.map((rider) => addPromoCode(t.db, rider, 'THREE')));
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(3);
  });

  it('applies a code on as many of a rider’s rides as its per-rider limit, once by default', async () => {
    const rider = await createUserRow(t.db, { city: 'paris' });
    await createCampaign(t.db, OPERATOR, { code: 'ONCE', discountType: 'percent', percentOff: 50 }, { regions });
    await addPromoCode(t.db, rider, 'ONCE');
    const fares: (string | null)[] = [];
    for (let i = 0; i < 2; i++) {
      const ride = await createRide(t.db, rider, { now: new Date(Date.now() - HOUR) });
      const ended = await endRide(t.db, rider, ride, 'Louvre', { priceList: DEFAULT_PRICE_LIST });
      fares.push(ended.receipt?.promoCode ?? null);
    }
    expect(fares).toEqual(['ONCE', null]);
    expect((await listUserPromoCodes(t.db.orm, rider)).map((c) => c.usageCount)).toEqual([1]);
  });

  it('takes a fixed amount off, never more than the fare', async () => {
    const rider = await createUserRow(t.db, { city: 'rome' });
    await createCampaign(t.db, OPERATOR, { code: 'FIVE-OFF', discountType: 'fixed', fixedOffCents: 500, perRiderLimit: 2 }, { regions });
    await createCampaign(t.db, OPERATOR, { code: 'HUGE', discountType: 'fixed', fixedOffCents: 100_000, cities: ['paris'] }, { regions });
    await addPromoCode(t.db, rider, 'FIVE-OFF');
    const ride = await createRide(t.db, rider, { now: new Date(Date.now() - 30 * 60_000) });
    const ended = await endRide(t.db, rider, ride, 'Colosseo', { priceList: DEFAULT_PRICE_LIST });
    expect(ended.receipt).toMatchObject({ promoCode: 'FIVE-OFF', discountCents: 500, discountPercent: 0 });
    expect(ended.receipt?.totalCents).toBe((ended.receipt?.fareCents ?? 0) - 500);
    const short = await createRide(t.db, rider, { now: new Date(Date.now() - 60_000), vehicle: { type: 'skateboard' } });
    const free = await endRide(t.db, rider, short, 'Colosseo', { priceList: DEFAULT_PRICE_LIST });
    expect(free.receipt?.totalCents).toBe(0);
    expect(free.receipt?.discountCents).toBe(free.receipt?.fareCents);
  });

  it('applies where it is meant to: a region’s cities, or the cities chosen', async () => {
    const promo = await createCampaign(t.db, OPERATOR, { code: 'EU', discountType: 'percent', percentOff: 10, regions: ['europe-west1'], cities: ['boston'] }, { regions });
    expect(promo.cities).toEqual(['boston', 'amsterdam', 'paris', 'rome']);
    expect(promo.regions).toEqual(['europe-west1']);
    const seattle = await createUserRow(t.db, { city: 'seattle' });
    await expect(addPromoCode(t.db, seattle, 'EU')).rejects.toMatchObject({ code: 'promo_code_not_here' });
    const paris = await createUserRow(t.db, { city: 'paris' });
    await addPromoCode(t.db, paris, 'EU');
    expect((await listActivePromoCodes(t.db.orm, { city: 'seattle' })).items.map((c) => c.code)).toEqual([]);
    expect((await listActivePromoCodes(t.db.orm, { city: 'rome' })).items.map((c) => c.code)).toEqual(['EU']);
  });

  it('lists publicly only listed codes; an unlisted one can still be redeemed by whoever knows it', async () => {
    await createCampaign(t.db, OPERATOR, { code: 'QUIET', discountType: 'percent', percentOff: 10, listed: false }, { regions });
    await createCampaign(t.db, OPERATOR, { code: 'LOUD', discountType: 'percent', percentOff: 10 }, { regions });
    expect((await listActivePromoCodes(t.db.orm)).items.map((c) => c.code)).toEqual(['LOUD']);
    expect((await listCampaigns(t.db.orm)).items.map((c) => c.code)).toEqual(['LOUD', 'QUIET']);
    const rider = await createUserRow(t.db);
    await addPromoCode(t.db, rider, 'QUIET');
    expect((await listUserPromoCodes(t.db.orm, rider)).map((c) => c.code)).toEqual(['QUIET']);
  });

  it('edits and ends a campaign; a started one can end before its expiry, a scheduled one too', async () => {
    const now = new Date();
    await createCampaign(t.db, OPERATOR, { code: 'SOON', discountType: 'percent', percentOff: 10, startsAt: new Date(now.getTime() + 24 * HOUR) }, { regions, now });
    expect(campaignState((await listCampaigns(t.db.orm, { state: 'scheduled', now })).items[0]!, now)).toBe('scheduled');
    const changed = await updateCampaign(t.db, OPERATOR, 'SOON', { discountType: 'fixed', fixedOffCents: 250, percentOff: null, redemptionLimit: 10 }, { regions, now });
    expect(changed).toMatchObject({ discount: { kind: 'fixed', cents: 250 }, redemptionLimit: 10, perRiderLimit: 1 });
    const ended = await endCampaign(t.db, OPERATOR, 'SOON', { now });
    expect(campaignState(ended, new Date(now.getTime() + 1))).toBe('ended');
    await expect(endCampaign(t.db, OPERATOR, 'SOON')).rejects.toBeInstanceOf(ConflictError);
    await expect(updateCampaign(t.db, OPERATOR, 'SOON', { listed: false }, { regions })).rejects.toMatchObject({ code: 'promo_code_ended' });
  });

  it('keeps the redemption limit at or above the redemptions made, and refuses bad rules', async () => {
    await createCampaign(t.db, OPERATOR, { code: 'TWO', discountType: 'percent', percentOff: 10, redemptionLimit: 5 }, { regions });
    await addPromoCode(t.db, await createUserRow(t.db), 'TWO');
    await addPromoCode(t.db, await createUserRow(t.db), 'TWO');
    await expect(updateCampaign(t.db, OPERATOR, 'TWO', { redemptionLimit: 1 }, { regions })).rejects.toBeInstanceOf(ValidationError);
    for (const input of [
      { code: 'A', discountType: 'percent' as const },
      { code: 'B', discountType: 'fixed' as const, fixedOffCents: 0 },
      { code: 'C', discountType: 'percent' as const, percentOff: 10, perRiderLimit: 0 },
      { code: 'D', discountType: 'percent' as const, percentOff: 10, regions: ['mars'] },
      { code: 'E', discountType: 'percent' as const, percentOff: 10, redemptionLimit: -1 },
    ]) {
      await expect(createCampaign(t.db, OPERATOR, input, { regions }), JSON.stringify(input)).rejects.toBeInstanceOf(ValidationError);
    }
  });
});

describe('campaignState', () => {
  it('says active, scheduled or ended', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    expect(campaignState({ creationTime: null, expirationTime: null }, now)).toBe('active');
    expect(campaignState({ creationTime: new Date('2026-02-01T00:00:00Z'), expirationTime: null }, now)).toBe('scheduled');
    expect(campaignState({ creationTime: null, expirationTime: now }, now)).toBe('ended');
  });
});
