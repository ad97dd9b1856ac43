// Promo codes: the active ones, adding one to an account, and the rider's best one at the end
// of a ride.
import { and, asc, eq, gt, isNull, lte, or } from 'drizzle-orm';
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

/** Codes that can be used now, in code order, a page at a time (the cursor is the last code). */
export async function listActivePromoCodes(
  db: Executor,
  options: { limit?: number | undefined; cursor?: string | undefined; now?: Date } = {},
): Promise<Page<PromoCode>> {
  const limit = pageSize(options.limit);
  const rows = await db
    .select()
    .from(promoCodes)
    .where(and(activeAt(options.now ?? new Date()), options.cursor ? gt(promoCodes.code, options.cursor) : undefined))
    .orderBy(asc(promoCodes.code))
    .limit(limit + 1);
  const items = rows.slice(0, limit).map(toPromoCode);
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.code ?? null) : null };
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
