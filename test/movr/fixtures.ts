// Shared fixtures for the domain tests: users created through signUp, promo codes inserted as
// rows (the domain has no function that creates them), and whole-database snapshots to prove
// that a refused operation changed nothing.
import type { Database } from '../../src/db/connect.ts';
import { TABLE_NAMES_CHILDREN_FIRST, type PromoRules, promoCodes } from '../../src/db/schema.ts';
import type { User } from '../../src/movr/users.ts';
import { createUser } from '../support/factories.ts';

export const PASSWORD = 'Tr0mbone-Lantern-42';
/** Luhn-valid test card numbers. */
export const VISA = '4111 1111 1111 1111';
export const MASTERCARD = '5555-5555-5555-4444';
/** Fails the Luhn check (last digit changed). */
export const BAD_LUHN = '4111 1111 1111 1112';

let counter = 0;

/** A unique, valid username. */
export function uniqueUsername(prefix = 'user'): string {
  counter++;
  return `${prefix}${counter}${Math.random().toString(36).slice(2, 7)}`;
}

export async function newUser(
  db: Database,
  overrides: { username?: string; name?: string; city?: string; address?: string | null; cardNumber?: string | null } = {},
): Promise<User> {
  return createUser(db, { username: uniqueUsername(), ...overrides });
}

/** Several users at once (argon2 hashing runs in parallel on the thread pool). */
export async function newUsers(db: Database, count: number, city = 'new york'): Promise<User[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => newUser(db, { city, name: `Rider ${i + 1}` })));
}

export async function insertPromoCode(
  db: Database,
  code: string,
  options: { percent?: string; rules?: PromoRules | null; creationTime?: Date | null; expirationTime?: Date | null; description?: string } = {},
): Promise<void> {
  await db.orm.insert(promoCodes).values({
    code,
    description: options.description ?? `${code} description`,
    creationTime: options.creationTime === undefined ? new Date('2020-01-01T00:00:00Z') : options.creationTime,
    expirationTime: options.expirationTime === undefined ? null : options.expirationTime,
    rules: options.rules === undefined ? { type: 'percent_discount', value: options.percent ?? '10%' } : options.rules,
  });
}

/** Every row of every MovR table, as JSON text, in a stable order. */
export async function snapshot(db: Database): Promise<Record<string, string[]>> {
  const result: Record<string, string[]> = {};
  for (const table of TABLE_NAMES_CHILDREN_FIRST) {
    const rows = await db.execute(`SELECT to_jsonb(t)::text AS row FROM ${table} t ORDER BY 1`);
    result[table] = rows.map((r) => String(r.row));
  }
  return result;
}

/** Empties every table but users and user_credentials, so users signed up once can be reused. */
export async function emptyAllButUsers(db: Database): Promise<void> {
  for (const table of TABLE_NAMES_CHILDREN_FIRST) {
    if (table !== 'users' && table !== 'user_credentials') await db.execute(`DELETE FROM ${table}`);
  }
}

export async function countRows(db: Database, sqlText: string, params: unknown[] = []): Promise<number> {
  const rows = await db.execute(sqlText, params);
  return Number(rows[0]?.n);
}

/** The rejection of a promise, for checking several properties of an error. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

export const minutes = (n: number) => n * 60_000;

/** Awaits a rejection and checks its class and (for domain errors) its code; returns the error. */
export async function expectError<T extends Error>(
  promise: Promise<unknown>,
  type: abstract new (...args: any[]) => T,
  code?: string,
): Promise<T> {
  const error = await rejectionOf(promise);
  if (!(error instanceof type)) {
    throw new Error(`expected a ${type.name}, got ${String(error)}`, { cause: error });
  }
  if (code !== undefined && (error as unknown as { code?: unknown }).code !== code) {
    throw new Error(`expected code ${code}, got ${String((error as unknown as { code?: unknown }).code)}: ${error.message}`, {
      cause: error,
    });
  }
  return error;
}
