// Fares, promo-code percentages and money conversions: pure functions, no database.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PRICE_LIST,
  MAX_CHARGED_MINUTES,
  centsToDecimal,
  chargedMinutes,
  computeFare,
  decimalToCents,
  percentDiscount,
  priceListOverrideSchema,
  priceListWith,
} from '../../src/movr/pricing.ts';

const START = new Date('2025-06-01T12:00:00Z');
const after = (ms: number) => new Date(START.getTime() + ms);
const SECOND = 1000;
const MINUTE = 60 * SECOND;

describe('chargedMinutes', () => {
  it('charges every started minute', () => {
    expect(chargedMinutes(START, after(MINUTE))).toBe(1);
    expect(chargedMinutes(START, after(MINUTE + 1))).toBe(2);
    expect(chargedMinutes(START, after(12 * MINUTE + 30 * SECOND))).toBe(13);
    expect(chargedMinutes(START, after(59 * MINUTE + 59 * SECOND))).toBe(60);
  });

  it('charges at least one minute, also for zero-length and backwards rides', () => {
    expect(chargedMinutes(START, START)).toBe(1);
    expect(chargedMinutes(START, after(1))).toBe(1);
    expect(chargedMinutes(START, after(-5 * MINUTE))).toBe(1);
  });

  it('charges at most MAX_CHARGED_MINUTES', () => {
    expect(MAX_CHARGED_MINUTES).toBe(24 * 60);
    expect(chargedMinutes(START, after(24 * 60 * MINUTE))).toBe(MAX_CHARGED_MINUTES);
    expect(chargedMinutes(START, after(24 * 60 * MINUTE + 1))).toBe(MAX_CHARGED_MINUTES);
    expect(chargedMinutes(START, after(30 * 24 * 60 * MINUTE))).toBe(MAX_CHARGED_MINUTES);
  });
});

describe('computeFare', () => {
  it('adds the unlock fee to the per-minute rate times started minutes', () => {
    // 12 min 30 s on a bike: 13 minutes × 15 + 100 = 295 cents.
    expect(computeFare(DEFAULT_PRICE_LIST, 'bike', START, after(12 * MINUTE + 30 * SECOND))).toEqual({
      minutes: 13,
      unlockCents: 100,
      perMinuteCents: 15,
      fareCents: 295,
      discountPercent: 0,
      discountCents: 0,
      totalCents: 295,
    });
    expect(computeFare(DEFAULT_PRICE_LIST, 'scooter', START, after(10 * MINUTE)).totalCents).toBe(100 + 10 * 39);
    expect(computeFare(DEFAULT_PRICE_LIST, 'skateboard', START, after(3 * MINUTE)).totalCents).toBe(50 + 3 * 10);
  });

  it('charges one minute for a ride that ends as it starts', () => {
    const fare = computeFare(DEFAULT_PRICE_LIST, 'bike', START, START);
    expect(fare.minutes).toBe(1);
    expect(fare.totalCents).toBe(115);
  });

  it('caps the charged minutes at MAX_CHARGED_MINUTES', () => {
    const fare = computeFare(DEFAULT_PRICE_LIST, 'scooter', START, after(3 * 24 * 60 * MINUTE));
    expect(fare.minutes).toBe(MAX_CHARGED_MINUTES);
    expect(fare.fareCents).toBe(100 + 39 * MAX_CHARGED_MINUTES);
  });

  it('charges an unknown or missing vehicle type as a scooter', () => {
    const scooter = computeFare(DEFAULT_PRICE_LIST, 'scooter', START, after(5 * MINUTE));
    for (const type of ['hoverboard', '', null, 'Bike', 'constructor', '__proto__']) {
      expect(computeFare(DEFAULT_PRICE_LIST, type, START, after(5 * MINUTE)), String(type)).toEqual(scooter);
    }
  });

  it('uses the given price list', () => {
    const prices = priceListWith({ bike: { unlockCents: 0, perMinuteCents: 20 } });
    expect(prices.scooter).toEqual(DEFAULT_PRICE_LIST.scooter);
    expect(computeFare(prices, 'bike', START, after(4 * MINUTE)).totalCents).toBe(80);
  });

  it('takes the discount off, rounded to whole cents', () => {
    // 295 × 10% = 29.5 → 30 cents off.
    const tenPercent = computeFare(DEFAULT_PRICE_LIST, 'bike', START, after(12 * MINUTE + 30 * SECOND), 10);
    expect(tenPercent).toMatchObject({ fareCents: 295, discountPercent: 10, discountCents: 30, totalCents: 265 });
    // 295 × 12.5% = 36.875 → 37 cents off.
    const fractional = computeFare(DEFAULT_PRICE_LIST, 'bike', START, after(12 * MINUTE + 30 * SECOND), 12.5);
    expect(fractional).toMatchObject({ discountPercent: 12.5, discountCents: 37, totalCents: 258 });
    // 115 × 33% = 37.95 → 38 cents off.
    expect(computeFare(DEFAULT_PRICE_LIST, 'bike', START, START, 33)).toMatchObject({ discountCents: 38, totalCents: 77 });
    for (const percent of [0, 1, 7, 12.5, 33, 50, 99.9, 100]) {
      const fare = computeFare(DEFAULT_PRICE_LIST, 'scooter', START, after(17 * MINUTE), percent);
      expect(Number.isInteger(fare.discountCents)).toBe(true);
      expect(Number.isInteger(fare.totalCents)).toBe(true);
      expect(fare.totalCents).toBe(fare.fareCents - fare.discountCents);
    }
  });

  it('never charges a negative total: discounts are clamped to 0–100%', () => {
    const full = computeFare(DEFAULT_PRICE_LIST, 'bike', START, after(5 * MINUTE), 100);
    expect(full).toMatchObject({ discountPercent: 100, discountCents: full.fareCents, totalCents: 0 });
    const over = computeFare(DEFAULT_PRICE_LIST, 'bike', START, after(5 * MINUTE), 250);
    expect(over).toMatchObject({ discountPercent: 100, totalCents: 0 });
    const negative = computeFare(DEFAULT_PRICE_LIST, 'bike', START, after(5 * MINUTE), -20);
    expect(negative).toMatchObject({ discountPercent: 0, discountCents: 0, totalCents: negative.fareCents });
  });

  it('charges nothing with a free price list', () => {
    const free = priceListWith({ skateboard: { unlockCents: 0, perMinuteCents: 0 } });
    expect(computeFare(free, 'skateboard', START, after(90 * MINUTE), 50).totalCents).toBe(0);
  });
});

describe('priceListOverrideSchema', () => {
  it('accepts whole non-negative cents for known types only', () => {
    expect(priceListOverrideSchema.safeParse({ bike: { unlockCents: 0, perMinuteCents: 25 } }).success).toBe(true);
    expect(priceListOverrideSchema.safeParse({ bike: { unlockCents: -1, perMinuteCents: 25 } }).success).toBe(false);
    expect(priceListOverrideSchema.safeParse({ bike: { unlockCents: 1.5, perMinuteCents: 25 } }).success).toBe(false);
    expect(priceListOverrideSchema.safeParse({ unicycle: { unlockCents: 1, perMinuteCents: 1 } }).success).toBe(false);
    expect(priceListOverrideSchema.safeParse({ bike: { unlockCents: 1, perMinuteCents: 1, extra: 1 } }).success).toBe(false);
  });
});

describe('percentDiscount', () => {
  const rule = (value: string) => ({ type: 'percent_discount', value });

  it('reads "N%" and "N.N %" with surrounding spaces', () => {
    expect(percentDiscount(rule('10%'))).toBe(10);
    expect(percentDiscount(rule(' 12.5 % '))).toBe(12.5);
    expect(percentDiscount(rule('0%'))).toBe(0);
    expect(percentDiscount(rule('100%'))).toBe(100);
    expect(percentDiscount(rule('7 %'))).toBe(7);
  });

  it('caps values above 100 at 100', () => {
    expect(percentDiscount(rule('150%'))).toBe(100);
    expect(percentDiscount(rule('100.5%'))).toBe(100);
    expect(percentDiscount(rule('999%'))).toBe(100);
  });

  it('reads anything else as no discount', () => {
    for (const value of ['', '%', '10', 'ten%', '-10%', '+10%', '10%%', '1e2%', '10 percent', '1,5%', '.5%', '5.%', '1000%']) {
      expect(percentDiscount(rule(value)), JSON.stringify(value)).toBe(0);
    }
    expect(percentDiscount(null)).toBe(0);
    expect(percentDiscount(undefined)).toBe(0);
    expect(percentDiscount({ type: 'fixed_discount', value: '10%' })).toBe(0);
    expect(percentDiscount({ type: 'percent_discount', value: 10 } as unknown as { type: string; value: string })).toBe(0);
    expect(percentDiscount({ type: 'percent_discount' } as unknown as { type: string; value: string })).toBe(0);
  });
});

describe('centsToDecimal and decimalToCents', () => {
  it('write cents as DECIMAL(10,2) text', () => {
    expect(centsToDecimal(0)).toBe('0.00');
    expect(centsToDecimal(5)).toBe('0.05');
    expect(centsToDecimal(50)).toBe('0.50');
    expect(centsToDecimal(100)).toBe('1.00');
    expect(centsToDecimal(295)).toBe('2.95');
    expect(centsToDecimal(123456)).toBe('1234.56');
    expect(centsToDecimal(-5)).toBe('-0.05');
    expect(centsToDecimal(-123456)).toBe('-1234.56');
  });

  it('read DECIMAL text as cents', () => {
    expect(decimalToCents('0.00')).toBe(0);
    expect(decimalToCents('0')).toBe(0);
    expect(decimalToCents('0.05')).toBe(5);
    expect(decimalToCents('0.5')).toBe(50);
    expect(decimalToCents('1')).toBe(100);
    expect(decimalToCents('12.34')).toBe(1234);
    expect(decimalToCents('1234.56')).toBe(123456);
    expect(decimalToCents('-0.05')).toBe(-5);
    expect(decimalToCents('-1234.56')).toBe(-123456);
    expect(decimalToCents('99.00')).toBe(9900);
  });

  it('round-trip', () => {
    for (const cents of [0, 1, 5, 10, 99, 100, 101, 295, 9999, 123456, 99999999, -1, -5, -100, -123456]) {
      expect(decimalToCents(centsToDecimal(cents)), String(cents)).toBe(cents);
    }
  });
});
