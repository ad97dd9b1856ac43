// Promo codes: the active ones, adding one to an account, and the rider's best one at the end
// of a ride.
import { type SQL, and, asc, eq, getTableColumns, gt, isNull, lte, or, sql } from 'drizzle-orm';
import { type Database, type Queryable, type Transaction, executorOf } from '../db/connect.ts';
import { FOREIGN_KEY_VIOLATION, UNIQUE_VIOLATION, sqlState } from '../db/errors.ts';
import { type PromoRules, promoCodes, userPromoCodes } from '../db/schema.ts';
import { runTransaction } from '../db/transaction.ts';
import { z } from 'zod';
import { domainError } from './errors.ts';
import { percentDiscount } from './pricing.ts';
import {
  type Page,
  PROMO_CODE_MAX_LENGTH,
  PercentOff,
  PromoCodeEntry,
  PromoCodeName,
  PromoDescription,
  pageSize,
  parseInput,
} from './rules.ts';
import { type UserRef, requireActiveUser } from './users.ts';

export interface PromoCode {
  readonly code: string;
  readonly description: string | null;
  readonly creationTime: Date | null;
  readonly expirationTime: Date | null;
  readonly rules: PromoRules | null;
  /** The percent a ride's fare is reduced by (0 for rules MovR does not understand). */
  readonly percentOff: number;
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
  };
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
  options: { limit?: number | undefined; cursor?: string | undefined; now?: Date; asOf?: SQL | undefined } = {},
): Promise<Page<PromoCode>> {
  const limit = pageSize(options.limit);
  const where = and(activeAt(options.now ?? new Date()), options.cursor ? gt(promoCodes.code, options.cursor) : undefined);
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
    rules: { type: 'percent_discount', value: `${input.percentOff}%` },
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

/** Adds a code to the user's account, so their rides get its discount. */
export async function addPromoCode(
  db: Database,
  user: UserRef,
  rawCode: string,
  options: { now?: Date } = {},
): Promise<UserPromoCode> {
  const { code } = parseInput(z.object({ code: PromoCodeEntry }), { code: rawCode });
  if (code.length > PROMO_CODE_MAX_LENGTH) throw domainError('promo_code_not_found', { code });
  const now = options.now ?? new Date();
  try {
    await runTransaction(db, 'add_promo_code', async (tx) => {
      await requireActiveUser(tx, user);
      const [promo] = await tx.select().from(promoCodes).where(eq(promoCodes.code, code)).limit(1);
      if (!promo) throw domainError('promo_code_not_found', { code });
      if (promo.expirationTime && promo.expirationTime <= now) throw domainError('promo_code_expired', { code });
      if (promo.creationTime && promo.creationTime > now) throw domainError('promo_code_not_active', { code });
      const [existing] = await tx
        .select({ code: userPromoCodes.code })
        .from(userPromoCodes)
        .where(and(eq(userPromoCodes.city, user.city), eq(userPromoCodes.userId, user.id), eq(userPromoCodes.code, code)));
      if (existing) throw domainError('promo_code_already_added', { code });
      await tx.insert(userPromoCodes).values({ city: user.city, userId: user.id, code, timestamp: now, usageCount: 0 });
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
}

/**
 * The rider's codes as one JSON value, for a query that reads them along with other things (the
 * end of a ride reads them with the ride, in one statement). `city` and `userId` are the SQL of
 * the rider's key in that query. Decode with heldPromoCodes().
 */
export function heldPromoCodesJson(city: SQL, userId: SQL): SQL<unknown> {
  return sql`(SELECT json_agg(json_build_object('code', p.code, 'rules', p.rules, 'creation_time', p.creation_time, 'expiration_time', p.expiration_time))
    FROM ${userPromoCodes} upc JOIN ${promoCodes} p ON p.code = upc.code
    WHERE upc.city = ${city} AND upc.user_id = ${userId})`;
}

/** The codes of heldPromoCodesJson's value (timestamps come as UTC text without a zone). */
export function heldPromoCodes(json: unknown): HeldPromoCode[] {
  const value = typeof json === 'string' ? (JSON.parse(json) as unknown) : json;
  if (!Array.isArray(value)) return [];
  const time = (text: unknown) => (typeof text === 'string' ? new Date(/Z|[+-]\d\d:?\d\d$/.test(text) ? text : `${text}Z`) : null);
  return value.map((item: { code: string; rules: PromoRules | null; creation_time: unknown; expiration_time: unknown }) => ({
    code: item.code,
    rules: item.rules,
    creationTime: time(item.creation_time),
    expirationTime: time(item.expiration_time),
  }));
}

/**
 * The held code with the largest discount that is valid at `at`; ties go to the code that
 * expires first. Undefined when none gives a discount.
 */
export function bestPromoCode(held: readonly HeldPromoCode[], at: Date): { code: string; percentOff: number } | undefined {
  const expiry = (p: HeldPromoCode) => p.expirationTime?.getTime() ?? Number.POSITIVE_INFINITY;
  const valid = held
    .filter((p) => (p.expirationTime === null || p.expirationTime > at) && (p.creationTime === null || p.creationTime <= at))
    .map((p) => ({ promo: p, percentOff: percentDiscount(p.rules) }))
    .filter((c) => c.percentOff > 0)
    .sort((a, b) => b.percentOff - a.percentOff || expiry(a.promo) - expiry(b.promo));
  const best = valid[0];
  return best && { code: best.promo.code, percentOff: best.percentOff };
}
