// What a ride costs: an unlock fee plus a per-minute rate for the vehicle type, less the rider's
// best promo code. Money is handled in whole cents; the database stores dollars with two decimals.
import { z } from 'zod';
import type { PromoRules } from '../db/schema.ts';
import { CURRENCIES, type Currency } from '../region-map.ts';
import { VEHICLE_TYPES, type VehicleType, isVehicleType } from './rules.ts';

export interface Price {
  /** Charged once per ride, in cents. */
  readonly unlockCents: number;
  /** Charged for every started minute, in cents. */
  readonly perMinuteCents: number;
}

export type PriceList = Readonly<Record<VehicleType, Price>>;

/** A price list per currency: rides are charged in their city's region's currency. */
export type PriceLists = Readonly<Record<Currency, PriceList>>;

/** The default price list in US dollars. Override it with MOVR_PRICE_LIST (see docs/pricing.md). */
export const DEFAULT_PRICE_LIST: PriceList = Object.freeze({
  bike: { unlockCents: 100, perMinuteCents: 15 },
  scooter: { unlockCents: 100, perMinuteCents: 39 },
  skateboard: { unlockCents: 50, perMinuteCents: 10 },
});

/** The default price lists, one per currency (amounts in that currency's cents). */
export const DEFAULT_PRICE_LISTS: PriceLists = Object.freeze({
  USD: DEFAULT_PRICE_LIST,
  EUR: Object.freeze({
    bike: { unlockCents: 100, perMinuteCents: 14 },
    scooter: { unlockCents: 100, perMinuteCents: 35 },
    skateboard: { unlockCents: 50, perMinuteCents: 9 },
  }),
});

const cents = z.number().int().min(0).max(100_000);
const priceSchema = z.strictObject({ unlockCents: cents, perMinuteCents: cents });
const typeOverrides = z.partialRecord(z.enum(VEHICLE_TYPES), priceSchema);
/**
 * MOVR_PRICE_LIST: prices by type (`{"scooter": {…}}`, the same amounts in every currency) or by
 * currency (`{"EUR": {"scooter": {…}}}`).
 */
export const priceListOverrideSchema = z.union([typeOverrides, z.partialRecord(z.enum(CURRENCIES), typeOverrides)]);

function isByCurrency(overrides: z.infer<typeof priceListOverrideSchema>): overrides is Partial<Record<Currency, z.infer<typeof typeOverrides>>> {
  return Object.keys(overrides).some((key) => (CURRENCIES as readonly string[]).includes(key));
}

/** The default price list (USD) with the given types replaced. */
export function priceListWith(overrides: z.infer<typeof typeOverrides>): PriceList {
  return Object.freeze({ ...DEFAULT_PRICE_LIST, ...overrides });
}

/** The default price lists with the given prices replaced (see priceListOverrideSchema). */
export function priceListsWith(overrides: z.infer<typeof priceListOverrideSchema>): PriceLists {
  const byCurrency = isByCurrency(overrides);
  const lists = Object.fromEntries(
    CURRENCIES.map((currency) => {
      const changes = byCurrency ? (overrides as Partial<Record<Currency, z.infer<typeof typeOverrides>>>)[currency] : overrides;
      return [currency, Object.freeze({ ...DEFAULT_PRICE_LISTS[currency], ...(changes as z.infer<typeof typeOverrides> | undefined) })];
    }),
  );
  return Object.freeze(lists) as PriceLists;
}

/** The price of a vehicle type; an unknown type (data from elsewhere) costs what a scooter does. */
export function priceOf(priceList: PriceList, type: string | null): Price {
  return priceList[isVehicleType(type) ? type : 'scooter'];
}

/** Longest a ride is charged for: 24 hours. A vehicle kept longer is a support case, not a fare. */
export const MAX_CHARGED_MINUTES = 24 * 60;

export interface Fare {
  /** Started minutes, at least 1, at most MAX_CHARGED_MINUTES. */
  minutes: number;
  unlockCents: number;
  perMinuteCents: number;
  /** Before the discount. */
  fareCents: number;
  discountPercent: number;
  discountCents: number;
  /** What the rider pays: never negative. */
  totalCents: number;
}

export function chargedMinutes(start: Date, end: Date): number {
  const minutes = Math.ceil((end.getTime() - start.getTime()) / 60_000);
  return Math.min(MAX_CHARGED_MINUTES, Math.max(1, minutes));
}

/**
 * The fare of a ride. An unknown vehicle type (data from elsewhere) is charged as a scooter, the
 * dearest type by default, rather than for free.
 */
export function computeFare(
  priceList: PriceList,
  type: string | null,
  start: Date,
  end: Date,
  discount: number | Discount | null = 0,
): Fare {
  const price = priceOf(priceList, type);
  const minutes = chargedMinutes(start, end);
  const fareCents = price.unlockCents + price.perMinuteCents * minutes;
  const given: Discount = typeof discount === 'number' ? { kind: 'percent', percent: discount } : (discount ?? { kind: 'percent', percent: 0 });
  const percent = given.kind === 'percent' ? Math.min(100, Math.max(0, given.percent)) : 0;
  const discountCents = discountOf(given, fareCents);
  return {
    minutes,
    unlockCents: price.unlockCents,
    perMinuteCents: price.perMinuteCents,
    fareCents,
    discountPercent: percent,
    discountCents,
    totalCents: Math.max(0, fareCents - discountCents),
  };
}

/** What a promo code takes off: a percentage of the fare, or a fixed amount in cents. */
export type Discount = { readonly kind: 'percent'; readonly percent: number } | { readonly kind: 'fixed'; readonly cents: number };

/** The cents a discount takes off a fare: never more than the fare. */
export function discountOf(discount: Discount, fareCents: number): number {
  if (discount.kind === 'fixed') return Math.min(fareCents, Math.max(0, Math.round(discount.cents)));
  const percent = Math.min(100, Math.max(0, discount.percent));
  return Math.round((fareCents * percent) / 100);
}

/** The rules MovR writes for a discount (the percent form is the CockroachDB workload's). */
export function rulesOf(discount: Discount): PromoRules {
  return discount.kind === 'percent'
    ? { type: 'percent_discount', value: `${discount.percent}%` }
    : { type: 'fixed_discount', value: centsToDecimal(discount.cents) };
}

/** The discount of a promo code's rules, or null for rules MovR does not understand. */
export function discountOfRules(rules: PromoRules | null | undefined): Discount | null {
  const percent = percentDiscount(rules);
  if (percent > 0) return { kind: 'percent', percent };
  if (rules?.type === 'fixed_discount' && typeof rules.value === 'string' && /^\d{1,7}(\.\d{1,2})?$/.test(rules.value.trim())) {
    const cents = decimalToCents(rules.value.trim());
    return cents > 0 ? { kind: 'fixed', cents } : null;
  }
  return null;
}

/** The percent a promo code's rules take off, or 0 when they are not a percent discount. */
export function percentDiscount(rules: PromoRules | null | undefined): number {
  if (!rules || rules.type !== 'percent_discount' || typeof rules.value !== 'string') return 0;
  const match = /^\s*(\d{1,3}(?:\.\d+)?)\s*%\s*$/.exec(rules.value);
  if (!match?.[1]) return 0;
  return Math.min(100, Number(match[1]));
}

/** Cents as the DECIMAL(10,2) text the database stores, e.g. 1234 → "12.34". */
export function centsToDecimal(value: number): string {
  const sign = value < 0 ? '-' : '';
  const abs = Math.abs(value);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** DECIMAL text from the database as cents, e.g. "12.34" → 1234. */
export function decimalToCents(value: string): number {
  const [whole = '0', fraction = ''] = value.split('.');
  const sign = whole.startsWith('-') ? -1 : 1;
  return sign * (Math.abs(Number(whole)) * 100 + Number(fraction.padEnd(2, '0').slice(0, 2)));
}
