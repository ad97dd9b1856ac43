// Promo codes: the active ones, adding (redeeming) one to an account, the rider's best one at
// the end of a ride, and the operators' campaigns: create, edit, end, give to a rider.
//
// A campaign's rules (decision 0024): a percent or fixed discount, start and expiry, a total
// redemption limit (how many riders may redeem the code), a per-rider limit (how many of each
// rider's rides it discounts, once by default), the cities or regions where it applies, and
// whether it is listed publicly. Redeeming is transactional: the counter of a limited code is
// raised by a conditional UPDATE in the redemption's SERIALIZABLE transaction, so a code with a
// limit of 1 is redeemed exactly once however many riders try at the same moment.
import { type SQL, and, asc, eq, getTableColumns, gt, isNull, lte, ne, or, sql } from 'drizzle-orm';
import { type Database, type Queryable, type Transaction, executorOf } from '../db/connect.ts';
import { FOREIGN_KEY_VIOLATION, UNIQUE_VIOLATION, sqlState } from '../db/errors.ts';
import { type PromoRules, promoCodes, userCredentials, userPromoCodes } from '../db/schema.ts';
import { runTransaction } from '../db/transaction.ts';
import { z } from 'zod';
import { ValidationError, domainError } from './errors.ts';
import type { RegionMap } from '../region-map.ts';
import { type Operator, recordAction } from './operators.ts';
import { type Discount, discountOf, discountOfRules, percentDiscount, rulesOf } from './pricing.ts';
import {
  type Page,
  PROMO_CODE_MAX_LENGTH,
  PercentOff,
  PromoCodeEntry,
  PromoCodeName,
  PromoDescription,
  pageSize,
  parseInput,
  promoCampaignSchema,
} from './rules.ts';
import { type UserRef, normalizeUsername, requireActiveUser } from './users.ts';

export interface PromoCode {
  readonly code: string;
  readonly description: string | null;
  readonly creationTime: Date | null;
  readonly expirationTime: Date | null;
  readonly rules: PromoRules | null;
  /** The percent a ride's fare is reduced by (0 for rules MovR does not understand). */
  readonly percentOff: number;
  /** What the code takes off; null for rules MovR does not understand. */
  readonly discount: Discount | null;
  /** How many riders may redeem it; null: no limit. */
  readonly redemptionLimit: number | null;
  /** How many riders have redeemed it (counted for limited codes only). */
  readonly redemptions: number;
  /** Rides it discounts per rider; null: no limit (codes MovR did not create). */
  readonly perRiderLimit: number | null;
  /** Where it applies: null for everywhere. */
  readonly cities: readonly string[] | null;
  /** The regions it was given for (their cities are in `cities`). */
  readonly regions: readonly string[] | null;
  /** Listed publicly; unlisted codes are added by riders who know them or are given them. */
  readonly listed: boolean;
}

export interface UserPromoCode extends PromoCode {
  readonly addedAt: Date | null;
  readonly usageCount: number;
  readonly expired: boolean;
}

function toPromoCode(row: typeof promoCodes.$inferSelect): PromoCode {
  return {
    code: row.code,
    description: row.description,
    creationTime: row.creationTime,
    expirationTime: row.expirationTime,
    rules: row.rules,
    percentOff: percentDiscount(row.rules),
    discount: discountOfRules(row.rules),
    redemptionLimit: row.redemptionLimit ?? null,
    redemptions: row.redemptions ?? 0,
    perRiderLimit: row.perRiderLimit ?? null,
    cities: row.cities ?? null,
    regions: row.regions ?? null,
    listed: row.listed !== false,
  };
}

/** Does the code apply in this city? */
export function appliesIn(promo: { readonly cities: readonly string[] | null }, city: string): boolean {
  return promo.cities === null || promo.cities.includes(city);
}

function activeAt(now: Date) {
  return and(
    or(isNull(promoCodes.expirationTime), gt(promoCodes.expirationTime, now)),
    or(isNull(promoCodes.creationTime), lte(promoCodes.creationTime, now)),
  );
}

/**
 * promo_codes' columns for a query whose FROM is an SQL fragment (`promo_codes AS OF SYSTEM
 * TIME ...`): Drizzle only selects table columns from a FROM that is that table, so each column
 * is selected as SQL, decoded as the column.
 */
const FIELDS_FROM_SQL_SOURCE = Object.fromEntries(
  Object.entries(getTableColumns(promoCodes)).map(([key, column]) => [key, sql`${column}`.mapWith(column)]),
);

/**
 * Codes that can be used now, in code order, a page at a time (the cursor is the last code).
 * `asOf` is a clause placed after the table name, e.g. CockroachDB's follower reads
 * (`AS OF SYSTEM TIME follower_read_timestamp()`, see asOfSystemTime in src/db/follower-reads.ts):
 * a slightly stale page served by the nearest replica. Without it, a plain read.
 */
export async function listActivePromoCodes(
  db: Queryable,
  options: { limit?: number | undefined; cursor?: string | undefined; now?: Date; asOf?: SQL | undefined; city?: string | undefined } = {},
): Promise<Page<PromoCode>> {
  const limit = pageSize(options.limit);
  const where = and(
    activeAt(options.now ?? new Date()),
    // Only listed codes: riders see the others only once they hold them.
    or(isNull(promoCodes.listed), ne(promoCodes.listed, false)),
    options.city === undefined ? undefined : sql`(${promoCodes.cities} IS NULL OR ${options.city} = ANY(${promoCodes.cities}))`,
    options.cursor ? gt(promoCodes.code, options.cursor) : undefined,
  );
  const orm = executorOf(db);
  const rows = options.asOf
    ? ((await orm
        .select(FIELDS_FROM_SQL_SOURCE)
        .from(sql`${promoCodes} ${options.asOf}`)
        .where(where)
        .orderBy(asc(promoCodes.code))
        .limit(limit + 1)) as (typeof promoCodes.$inferSelect)[])
    : await orm
        .select()
        .from(promoCodes)
        .where(where)
        .orderBy(asc(promoCodes.code))
        .limit(limit + 1);
  const items = rows.slice(0, limit).map(toPromoCode);
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.code ?? null) : null };
}

export interface NewPromoCode {
  code: string;
  description?: string | null | undefined;
  /** The discount, a percentage above 0 and at most 100. */
  percentOff: number;
  /** When the code becomes valid; now when not given. */
  startsAt?: Date | undefined;
  /** When it stops being valid; null or not given for a code that never expires. */
  expiresAt?: Date | null | undefined;
}

const newPromoCodeSchema = z
  .object({
    code: PromoCodeName,
    description: PromoDescription.nullish(),
    percentOff: PercentOff,
    startsAt: z.instanceof(Date).optional(),
    expiresAt: z.instanceof(Date).nullish(),
  })
  .superRefine((input, ctx) => {
    const { startsAt, expiresAt } = input;
    const invalid = (date: Date | null | undefined) => date instanceof Date && Number.isNaN(date.getTime());
    if (invalid(startsAt) || invalid(expiresAt) || (startsAt && expiresAt && expiresAt <= startsAt)) {
      ctx.addIssue({ code: 'custom', path: ['expiresAt'], message: 'A promo code must expire after it starts.' });
    }
  });

/**
 * Creates a promo code with a percent discount (rules `{"type": "percent_discount", "value":
 * "<n>%"}`, as the CockroachDB workload writes them). ConflictError('promo_code_exists') when the
 * code is taken.
 */
export async function createPromoCode(
  db: Database,
  input: NewPromoCode,
  options: { now?: Date } = {},
): Promise<PromoCode> {
  const now = options.now ?? new Date();
  const parsed = parseInput(newPromoCodeSchema, { ...input, startsAt: input.startsAt ?? now });
  const code = parsed.code;
  const description = parsed.description || null;
  const startsAt = parsed.startsAt ?? now;
  const expiresAt = parsed.expiresAt ?? null;
  const row = {
    code,
    description,
    creationTime: startsAt,
    expirationTime: expiresAt,
    rules: rulesOf({ kind: 'percent', percent: input.percentOff }),
    redemptionLimit: null,
    redemptions: null,
    perRiderLimit: 1,
    cities: null,
    regions: null,
    listed: true,
  };
  try {
    await runTransaction(db, 'create_promo_code', async (tx) => {
      await tx.insert(promoCodes).values(row);
    });
  } catch (error) {
    if (sqlState(error) === UNIQUE_VIOLATION) {
      throw domainError('promo_code_exists', { code });
    }
    throw error;
  }
  return toPromoCode(row);
}

/**
 * Redeems a code: adds it to the user's account, so their rides get its discount. Refused when
 * it is unknown, not valid now, does not apply in the user's city, was redeemed by the user
 * already, or has reached its redemption limit (promo_code_exhausted).
 */
export async function addPromoCode(
  db: Database,
  user: UserRef,
  rawCode: string,
  options: { now?: Date; inTransaction?: (tx: Transaction) => Promise<void> } = {},
): Promise<UserPromoCode> {
  const { code } = parseInput(z.object({ code: PromoCodeEntry }), { code: rawCode });
  if (code.length > PROMO_CODE_MAX_LENGTH) throw domainError('promo_code_not_found', { code });
  const now = options.now ?? new Date();
  try {
    await runTransaction(db, 'add_promo_code', async (tx) => {
      await requireActiveUser(tx, user);
      await redeem(tx, user, code, now);
      await options.inTransaction?.(tx);
    });
  } catch (error) {
    if (sqlState(error) === UNIQUE_VIOLATION) throw domainError('promo_code_already_added', { code });
    if (sqlState(error) === FOREIGN_KEY_VIOLATION) throw domainError('user_not_found');
    throw error;
  }
  const codes = await listUserPromoCodes(db, user, { now });
  const added = codes.find((c) => c.code === code);
  if (!added) throw domainError('promo_code_not_found', { code });
  return added;
}

/** One redemption, inside a transaction: the checks, the limited code's counter, the user's row. */
async function redeem(tx: Transaction, user: UserRef, code: string, now: Date): Promise<void> {
  const [promo] = await tx.select().from(promoCodes).where(eq(promoCodes.code, code)).limit(1);
  if (!promo) throw domainError('promo_code_not_found', { code });
  if (promo.expirationTime && promo.expirationTime <= now) throw domainError('promo_code_expired', { code });
  if (promo.creationTime && promo.creationTime > now) throw domainError('promo_code_not_active', { code });
  if (!appliesIn({ cities: promo.cities ?? null }, user.city)) throw domainError('promo_code_not_here', { code, city: user.city });
  const [existing] = await tx
    .select({ code: userPromoCodes.code })
    .from(userPromoCodes)
    .where(and(eq(userPromoCodes.city, user.city), eq(userPromoCodes.userId, user.id), eq(userPromoCodes.code, code)));
  if (existing) throw domainError('promo_code_already_added', { code });
  if (promo.redemptionLimit !== null) {
    // The limit holds in the database itself: the counter only rises while below the limit.
    const counted = await tx
      .update(promoCodes)
      .set({ redemptions: sql`coalesce(${promoCodes.redemptions}, 0) + 1` })
      .where(and(eq(promoCodes.code, code), sql`coalesce(${promoCodes.redemptions}, 0) < ${promoCodes.redemptionLimit}`))
      .returning({ code: promoCodes.code });
    if (counted.length === 0) throw domainError('promo_code_exhausted', { code });
  }
  await tx.insert(userPromoCodes).values({ city: user.city, userId: user.id, code, timestamp: now, usageCount: 0 });
}

/** The user's codes, newest first, with how often each was used and whether it has expired. */
export async function listUserPromoCodes(db: Queryable, user: UserRef, options: { now?: Date } = {}): Promise<UserPromoCode[]> {
  const now = options.now ?? new Date();
  const rows = await executorOf(db)
    .select({ promo: promoCodes, addedAt: userPromoCodes.timestamp, usageCount: userPromoCodes.usageCount })
    .from(userPromoCodes)
    .innerJoin(promoCodes, eq(promoCodes.code, userPromoCodes.code))
    .where(and(eq(userPromoCodes.city, user.city), eq(userPromoCodes.userId, user.id)))
    .orderBy(asc(userPromoCodes.code));
  return rows
    .map((row) => ({
      ...toPromoCode(row.promo),
      addedAt: row.addedAt,
      usageCount: row.usageCount ?? 0,
      expired: row.promo.expirationTime !== null && row.promo.expirationTime <= now,
    }))
    .sort((a, b) => (b.addedAt?.getTime() ?? 0) - (a.addedAt?.getTime() ?? 0));
}

/** A promo code a rider holds, as the end of a ride reads it (held: held codes JSON). */
export interface HeldPromoCode {
  readonly code: string;
  readonly rules: PromoRules | null;
  readonly creationTime: Date | null;
  readonly expirationTime: Date | null;
  readonly perRiderLimit: number | null;
  readonly usageCount: number;
  readonly cities: readonly string[] | null;
}

/**
 * The rider's codes as one JSON value, for a query that reads them along with other things (the
 * end of a ride reads them with the ride, in one statement). `city` and `userId` are the SQL of
 * the rider's key in that query. Decode with heldPromoCodes().
 */
export function heldPromoCodesJson(city: SQL, userId: SQL): SQL<unknown> {
  return sql`(SELECT json_agg(json_build_object('code', p.code, 'rules', p.rules, 'creation_time', p.creation_time, 'expiration_time', p.expiration_time,
      'per_rider_limit', p.per_rider_limit, 'usage_count', upc.usage_count, 'cities', p.cities))
    FROM ${userPromoCodes} upc JOIN ${promoCodes} p ON p.code = upc.code
    WHERE upc.city = ${city} AND upc.user_id = ${userId})`;
}

/** The codes of heldPromoCodesJson's value (timestamps come as UTC text without a zone). */
export function heldPromoCodes(json: unknown): HeldPromoCode[] {
  const value = typeof json === 'string' ? (JSON.parse(json) as unknown) : json;
  if (!Array.isArray(value)) return [];
  const time = (text: unknown) => (typeof text === 'string' ? new Date(/Z|[+-]\d\d:?\d\d$/.test(text) ? text : `${text}Z`) : null);
  type Item = {
    code: string;
    rules: PromoRules | null;
    creation_time: unknown;
    expiration_time: unknown;
    per_rider_limit?: unknown;
    usage_count?: unknown;
    cities?: unknown;
  };
  return value.map((item: Item) => ({
    code: item.code,
    rules: item.rules,
    creationTime: time(item.creation_time),
    expirationTime: time(item.expiration_time),
    perRiderLimit: typeof item.per_rider_limit === 'number' ? item.per_rider_limit : null,
    usageCount: typeof item.usage_count === 'number' ? item.usage_count : 0,
    cities: Array.isArray(item.cities) ? item.cities.map(String) : null,
  }));
}

/**
 * The held code that takes the most off this fare and may be used now: valid at `at`, applying
 * in the ride's city, and used on fewer of the rider's rides than its per-rider limit. Ties go to
 * the code that expires first. Undefined when none gives a discount.
 */
export function bestPromoCode(
  held: readonly HeldPromoCode[],
  at: Date,
  ride: { city?: string; fareCents?: number } = {},
): { code: string; percentOff: number; discount: Discount } | undefined {
  const expiry = (p: HeldPromoCode) => p.expirationTime?.getTime() ?? Number.POSITIVE_INFINITY;
  // Without a fare, codes compare as on a $10 ride.
  const fareCents = ride.fareCents ?? 1000;
  const valid = held
    .filter((p) => (p.expirationTime === null || p.expirationTime > at) && (p.creationTime === null || p.creationTime <= at))
    .filter((p) => p.perRiderLimit === null || p.usageCount < p.perRiderLimit)
    .filter((p) => ride.city === undefined || appliesIn(p, ride.city))
    .flatMap((p) => {
      const discount = discountOfRules(p.rules);
      return discount ? [{ promo: p, discount, cents: discountOf(discount, fareCents) }] : [];
    })
    .filter((c) => c.cents > 0)
    .sort((a, b) => b.cents - a.cents || expiry(a.promo) - expiry(b.promo));
  const best = valid[0];
  return best && { code: best.promo.code, percentOff: best.discount.kind === 'percent' ? best.discount.percent : 0, discount: best.discount };
}

// ---- campaigns (operators) ---------------------------------------------------------------------

export interface PromoCampaignInput {
  code: string;
  description?: string | null | undefined;
  discountType: 'percent' | 'fixed';
  percentOff?: number | null | undefined;
  fixedOffCents?: number | null | undefined;
  /** Now when not given. */
  startsAt?: Date | undefined;
  /** Null or not given: never expires. */
  expiresAt?: Date | null | undefined;
  redemptionLimit?: number | null | undefined;
  /** 1 when not given. */
  perRiderLimit?: number | undefined;
  cities?: string[] | undefined;
  regions?: string[] | undefined;
  /** true when not given. */
  listed?: boolean | undefined;
}

/** The columns of a campaign; a region stands for its cities as the region map has them now. */
function campaignRow(input: ReturnType<ReturnType<typeof promoCampaignSchema>['parse']>, regions: RegionMap, now: Date) {
  const discount: Discount =
    input.discountType === 'percent' ? { kind: 'percent', percent: input.percentOff ?? 0 } : { kind: 'fixed', cents: input.fixedOffCents ?? 0 };
  const regionCities = regions.regions.filter((r) => input.regions.includes(r.region)).flatMap((r) => r.cities.map((c) => c.name));
  const cities = [...new Set([...input.cities, ...regionCities])];
  return {
    code: input.code,
    description: input.description || null,
    creationTime: input.startsAt ?? now,
    expirationTime: input.expiresAt ?? null,
    rules: rulesOf(discount),
    redemptionLimit: input.redemptionLimit ?? null,
    perRiderLimit: input.perRiderLimit,
    cities: cities.length > 0 ? cities : null,
    regions: input.regions.length > 0 ? [...new Set(input.regions)] : null,
    listed: input.listed,
  };
}

/** The campaign's input as the form and API show it back (the inverse of campaignRow). */
export function campaignInputOf(promo: PromoCode, regions: RegionMap): PromoCampaignInput {
  const chosen = new Set(promo.regions ?? []);
  const regionCities = new Set(regions.regions.filter((r) => chosen.has(r.region)).flatMap((r) => r.cities.map((c) => c.name)));
  return {
    code: promo.code,
    description: promo.description,
    discountType: promo.discount?.kind ?? 'percent',
    percentOff: promo.discount?.kind === 'percent' ? promo.discount.percent : null,
    fixedOffCents: promo.discount?.kind === 'fixed' ? promo.discount.cents : null,
    ...(promo.creationTime ? { startsAt: promo.creationTime } : {}),
    expiresAt: promo.expirationTime,
    redemptionLimit: promo.redemptionLimit,
    perRiderLimit: promo.perRiderLimit ?? 1,
    cities: (promo.cities ?? []).filter((city) => !regionCities.has(city)),
    regions: [...(promo.regions ?? [])],
    listed: promo.listed,
  };
}

/** A promo code by its code; NotFoundError('promo_code_not_found') otherwise. */
export async function getPromoCode(db: Queryable, code: string): Promise<PromoCode> {
  const [row] = code.length <= PROMO_CODE_MAX_LENGTH ? await executorOf(db).select().from(promoCodes).where(eq(promoCodes.code, code)).limit(1) : [];
  if (!row) throw domainError('promo_code_not_found', { code });
  return toPromoCode(row);
}

/** Creates a campaign's code. ConflictError('promo_code_exists') when the code is taken. */
export async function createCampaign(
  db: Database,
  operator: Operator,
  input: PromoCampaignInput,
  options: { regions: RegionMap; now?: Date },
): Promise<PromoCode> {
  const now = options.now ?? new Date();
  const parsed = parseInput(promoCampaignSchema(options.regions), { ...input, startsAt: input.startsAt ?? now });
  const row = campaignRow(parsed, options.regions, now);
  try {
    await runTransaction(db, 'create_promo_code', async (tx) => {
      await tx.insert(promoCodes).values(row);
      await recordAction(tx, operator, 'promo_code_created', row.code, { rules: row.rules }, now);
    });
  } catch (error) {
    if (sqlState(error) === UNIQUE_VIOLATION) throw domainError('promo_code_exists', { code: row.code });
    throw error;
  }
  return getPromoCode(db, row.code);
}

/**
 * Changes a campaign: the fields given replace the code's (the code itself stays). A code that
 * has ended cannot change (create a new one). The redemption limit cannot go below the
 * redemptions made.
 */
export async function updateCampaign(
  db: Database,
  operator: Operator,
  code: string,
  changes: Partial<Omit<PromoCampaignInput, 'code'>>,
  options: { regions: RegionMap; now?: Date },
): Promise<PromoCode> {
  const now = options.now ?? new Date();
  await runTransaction(db, 'update_promo_code', async (tx) => {
    const current = await getPromoCode(tx, code);
    if (current.expirationTime && current.expirationTime <= now) throw domainError('promo_code_ended', { code });
    const merged = { ...campaignInputOf(current, options.regions), ...stripUndefined(changes), code: current.code };
    const parsed = parseInput(promoCampaignSchema(options.regions), merged);
    if (parsed.redemptionLimit != null && parsed.redemptionLimit < current.redemptions) {
      throw ValidationError.field('redemptionLimit', `${current.redemptions} riders have redeemed it already: the limit cannot be lower.`);
    }
    const row = campaignRow(parsed, options.regions, now);
    await tx
      .update(promoCodes)
      .set({ ...row, code: undefined })
      .where(eq(promoCodes.code, current.code));
    await recordAction(tx, operator, 'promo_code_updated', current.code, { changed: Object.keys(stripUndefined(changes)).sort() }, now);
  });
  return getPromoCode(db, code);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Ends a campaign now: the code expires, riders who hold it keep it as expired. */
export async function endCampaign(db: Database, operator: Operator, code: string, options: { now?: Date } = {}): Promise<PromoCode> {
  const now = options.now ?? new Date();
  await runTransaction(db, 'end_promo_code', async (tx) => {
    const current = await getPromoCode(tx, code);
    if (current.expirationTime && current.expirationTime <= now) throw domainError('promo_code_ended', { code });
    // A code that has not started yet ends before it starts.
    const startsLater = current.creationTime && current.creationTime > now;
    await tx
      .update(promoCodes)
      .set({ expirationTime: now, ...(startsLater ? { creationTime: new Date(now.getTime() - 1) } : {}) })
      .where(eq(promoCodes.code, current.code));
    await recordAction(tx, operator, 'promo_code_ended', current.code, null, now);
  });
  return getPromoCode(db, code);
}

/**
 * Gives a code to a rider (by username), listed or not: a redemption like the rider's own, within
 * the same limits, recorded as the operator's action.
 */
export async function giveCode(
  db: Database,
  operator: Operator,
  code: string,
  username: string,
  options: { now?: Date } = {},
): Promise<{ user: UserRef; promo: UserPromoCode }> {
  const now = options.now ?? new Date();
  const name = normalizeUsername(username);
  const [row] = await db.orm
    .select({ city: userCredentials.city, id: userCredentials.userId })
    .from(userCredentials)
    .where(eq(userCredentials.username, name))
    .limit(1);
  if (!row) throw domainError('username_not_found', { username: name });
  const promo = await addPromoCode(db, row, code, {
    now,
    inTransaction: (tx) => recordAction(tx, operator, 'promo_code_given', code, { username: name }, now),
  });
  return { user: row, promo };
}

export type CampaignState = 'active' | 'scheduled' | 'ended';

/** Where a code stands at `now`. */
export function campaignState(promo: Pick<PromoCode, 'creationTime' | 'expirationTime'>, now: Date): CampaignState {
  if (promo.expirationTime && promo.expirationTime <= now) return 'ended';
  if (promo.creationTime && promo.creationTime > now) return 'scheduled';
  return 'active';
}

/** Every code (listed or not), in code order, a page at a time; optionally only those in one state. */
export async function listCampaigns(
  db: Queryable,
  options: { limit?: number | undefined; cursor?: string | undefined; state?: CampaignState | undefined; now?: Date } = {},
): Promise<Page<PromoCode>> {
  const limit = pageSize(options.limit);
  const now = options.now ?? new Date();
  const state =
    options.state === 'active'
      ? activeAt(now)
      : options.state === 'ended'
        ? lte(promoCodes.expirationTime, now)
        : options.state === 'scheduled'
          ? and(gt(promoCodes.creationTime, now), or(isNull(promoCodes.expirationTime), gt(promoCodes.expirationTime, now)))
          : undefined;
  const rows = await executorOf(db)
    .select()
    .from(promoCodes)
    .where(and(state, options.cursor ? gt(promoCodes.code, options.cursor) : undefined))
    .orderBy(asc(promoCodes.code))
    .limit(limit + 1);
  const items = rows.slice(0, limit).map(toPromoCode);
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.code ?? null) : null };
}
