// Promo codes: the active ones, adding one to an account, and the rider's best one at the end
// of a ride.
import { type SQL, and, asc, eq, getTableColumns, gt, isNull, lte, or, sql } from 'drizzle-orm';
import type { Database, Executor, Transaction } from '../db/connect.ts';
import { FOREIGN_KEY_VIOLATION, UNIQUE_VIOLATION, sqlState } from '../db/errors.ts';
import { type PromoRules, promoCodes, userPromoCodes } from '../db/schema.ts';
import { runTransaction } from '../db/transaction.ts';
import { ConflictError, NotFoundError, ValidationError } from './errors.ts';
import { percentDiscount } from './pricing.ts';
import { type UserRef, requireActiveUser } from './users.ts';
import { type Page, pageSize } from './vehicles.ts';

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

const CODE_MAX_LENGTH = 100;

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
 * (`AS OF SYSTEM TIME follower_read_timestamp()`, see asOfSystemTime in src/db/regions.ts):
 * a slightly stale page served by the nearest replica. Without it, a plain read.
 */
export async function listActivePromoCodes(
  db: Executor,
  options: { limit?: number | undefined; cursor?: string | undefined; now?: Date; asOf?: SQL | undefined } = {},
): Promise<Page<PromoCode>> {
  const limit = pageSize(options.limit);
  const where = and(activeAt(options.now ?? new Date()), options.cursor ? gt(promoCodes.code, options.cursor) : undefined);
  const rows = options.asOf
    ? ((await db
        .select(FIELDS_FROM_SQL_SOURCE)
        .from(sql`${promoCodes} ${options.asOf}`)
        .where(where)
        .orderBy(asc(promoCodes.code))
        .limit(limit + 1)) as (typeof promoCodes.$inferSelect)[])
    : await db
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

/** Letters, digits, dots, dashes and underscores: what a rider can type and a URL can carry. */
const CODE_PATTERN = /^[A-Za-z0-9._-]+$/;
const DESCRIPTION_MAX_LENGTH = 200;

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
  const code = input.code.trim();
  const description = input.description?.trim() || null;
  const now = options.now ?? new Date();
  const startsAt = input.startsAt ?? now;
  const expiresAt = input.expiresAt ?? null;
  const problems = [];
  if (code.length === 0 || code.length > CODE_MAX_LENGTH || !CODE_PATTERN.test(code)) {
    problems.push({
      path: 'code',
      message: `Use 1 to ${CODE_MAX_LENGTH} letters, digits, dots, dashes or underscores.`,
    });
  }
  if (description && description.length > DESCRIPTION_MAX_LENGTH) {
    problems.push({ path: 'description', message: `Use at most ${DESCRIPTION_MAX_LENGTH} characters.` });
  }
  if (!Number.isFinite(input.percentOff) || input.percentOff <= 0 || input.percentOff > 100) {
    problems.push({ path: 'percentOff', message: 'The discount must be more than 0% and at most 100%.' });
  }
  if (Number.isNaN(startsAt.getTime()) || (expiresAt && (Number.isNaN(expiresAt.getTime()) || expiresAt <= startsAt))) {
    problems.push({ path: 'expiresAt', message: 'A promo code must expire after it starts.' });
  }
  if (problems.length > 0) {
    throw new ValidationError(problems.length === 1 ? problems[0]!.message : 'Some of the details are not valid.', problems);
  }
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
      throw new ConflictError(`The promo code "${code}" already exists.`, 'promo_code_exists');
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
  const code = rawCode.trim();
  if (code.length === 0) throw ValidationError.field('code', 'Enter a promo code.');
  if (code.length > CODE_MAX_LENGTH) throw new NotFoundError(`There is no promo code "${code.slice(0, 40)}…".`, 'promo_code_not_found');
  const now = options.now ?? new Date();
  try {
    await runTransaction(db, 'add_promo_code', async (tx) => {
      await requireActiveUser(tx, user);
      const [promo] = await tx.select().from(promoCodes).where(eq(promoCodes.code, code)).limit(1);
      if (!promo) throw new NotFoundError(`There is no promo code "${code}".`, 'promo_code_not_found');
      if (promo.expirationTime && promo.expirationTime <= now) {
        throw new ConflictError(`The promo code "${code}" has expired.`, 'promo_code_expired');
      }
      if (promo.creationTime && promo.creationTime > now) {
        throw new ConflictError(`The promo code "${code}" is not valid yet.`, 'promo_code_not_active');
      }
      const [existing] = await tx
        .select({ code: userPromoCodes.code })
        .from(userPromoCodes)
        .where(and(eq(userPromoCodes.city, user.city), eq(userPromoCodes.userId, user.id), eq(userPromoCodes.code, code)));
      if (existing) throw alreadyAdded(code);
      await tx.insert(userPromoCodes).values({ city: user.city, userId: user.id, code, timestamp: now, usageCount: 0 });
    });
  } catch (error) {
    if (sqlState(error) === UNIQUE_VIOLATION) throw alreadyAdded(code);
    if (sqlState(error) === FOREIGN_KEY_VIOLATION) throw new NotFoundError('That user does not exist.', 'user_not_found');
    throw error;
  }
  const codes = await listUserPromoCodes(db.orm, user, { now });
  const added = codes.find((c) => c.code === code);
  if (!added) throw new NotFoundError(`There is no promo code "${code}".`, 'promo_code_not_found');
  return added;
}

function alreadyAdded(code: string): ConflictError {
  return new ConflictError(`You have already added the promo code "${code}".`, 'promo_code_already_added');
}

/** The user's codes, newest first, with how often each was used and whether it has expired. */
export async function listUserPromoCodes(db: Executor, user: UserRef, options: { now?: Date } = {}): Promise<UserPromoCode[]> {
  const now = options.now ?? new Date();
  const rows = await db
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

/**
 * Inside a transaction: the user's valid code with the largest discount, counted as used once
 * more; undefined when they have none. Ties go to the code that expires first.
 */
export async function useBestPromoCode(tx: Transaction, user: UserRef, now: Date): Promise<PromoCode | undefined> {
  const rows = await tx
    .select({ promo: promoCodes, usageCount: userPromoCodes.usageCount })
    .from(userPromoCodes)
    .innerJoin(promoCodes, eq(promoCodes.code, userPromoCodes.code))
    .where(and(eq(userPromoCodes.city, user.city), eq(userPromoCodes.userId, user.id), activeAt(now)));
  const expiry = (p: PromoCode) => p.expirationTime?.getTime() ?? Number.POSITIVE_INFINITY;
  const best = rows
    .map((row) => ({ promo: toPromoCode(row.promo), usageCount: row.usageCount ?? 0 }))
    .filter((c) => c.promo.percentOff > 0)
    .sort((a, b) => b.promo.percentOff - a.promo.percentOff || expiry(a.promo) - expiry(b.promo))[0];
  if (!best) return undefined;
  await tx
    .update(userPromoCodes)
    .set({ usageCount: best.usageCount + 1 })
    .where(and(eq(userPromoCodes.city, user.city), eq(userPromoCodes.userId, user.id), eq(userPromoCodes.code, best.promo.code)));
  return best.promo;
}
