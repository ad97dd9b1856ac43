// Riders and owners: signing up, logging in, the profile, deleting an account.
//
// A user lives in their home city: `users` is keyed by (city, id), and the workload schema's
// foreign keys tie a user's rides and vehicles to that city. The home city is therefore chosen
// at sign-up and fixed afterwards.
import { randomUUID } from 'node:crypto';
import { and, eq, isNull, ne, or } from 'drizzle-orm';
import { type Database, type Queryable, type Transaction, executorOf } from '../db/connect.ts';
import { UNIQUE_VIOLATION, sqlState, violatedConstraint } from '../db/errors.ts';
import { type MovrTable, USER_REFERENCES, apiTokens, rides, userCredentials, users, vehicles } from '../db/schema.ts';
import { runTransaction } from '../db/transaction.ts';
import { z } from 'zod';
import type { RegionMap } from '../region-map.ts';
import { ValidationError, domainError } from './errors.ts';
import { type PasswordContext, hashPassword, passwordWeakness, verifyPassword } from './passwords.ts';
import { endAllSessions } from './sessions.ts';
import { Address, CardNumber, Password, PersonName, Username, cardDigits, citySchema, fieldErrorsOf, parseInput } from './rules.ts';

/** Identifies a user: their home city and id (the primary key). */
export interface UserRef {
  readonly city: string;
  readonly id: string;
}

export interface User extends UserRef {
  /** Null once the account is deleted. */
  readonly name: string | null;
  readonly address: string | null;
  /** Masked, e.g. "**** **** **** 1234"; the full number is never stored. */
  readonly maskedCard: string | null;
  /** Null for users without log-in credentials (generated data, deleted accounts). */
  readonly username: string | null;
}

export interface SignUpInput {
  username: string;
  password: string;
  name: string;
  city: string;
  address?: string | null | undefined;
  /** A payment card number; only its masked form is kept. */
  cardNumber?: string | null | undefined;
}

export interface ProfileChanges {
  name?: string | undefined;
  address?: string | null | undefined;
  /** A new card number, or null to remove the card; undefined keeps it. */
  cardNumber?: string | null | undefined;
}

/** What the domain functions that need to know the cities are given. */
export interface Cities {
  readonly regions: RegionMap;
}

/** Usernames are case-insensitive: stored and compared lower-cased. */
export function normalizeUsername(username: string): string {
  return username.trim().toLowerCase();
}

/** Why a password is refused (too short, too long, too easy to guess), or undefined when it is acceptable. */
export async function passwordProblem(password: string, context: PasswordContext = {}): Promise<string | undefined> {
  const length = Password.safeParse(password);
  if (!length.success) return length.error.issues[0]?.message;
  return passwordWeakness(password, context);
}

/** Card digits (spaces and dashes allowed) as "**** **** **** 1234". */
export function maskCardNumber(cardNumber: string): string {
  const digits = cardDigits(cardNumber);
  if (!/^\d{4,19}$/.test(digits)) throw new RangeError('A card number must have 4 to 19 digits');
  return `**** **** **** ${digits.slice(-4)}`;
}

const OptionalCard = CardNumber.nullish();
const OptionalAddress = Address.nullish();

/** The fields signUp and createUser share: name, home city, address and card. */
function newUserFields({ regions }: Cities) {
  return {
    name: PersonName,
    city: citySchema(regions),
    address: OptionalAddress,
    cardNumber: OptionalCard,
  };
}

/** The values to store for the shared fields: blanks as null, the card masked. */
function storedUser(input: { name: string; city: string; address?: string | null | undefined; cardNumber?: string | null | undefined }) {
  const card = input.cardNumber?.trim() || null;
  return {
    id: randomUUID(),
    city: input.city,
    name: input.name,
    address: input.address?.trim() || null,
    creditCard: card ? maskCardNumber(card) : null,
  };
}

/** The sign-up rules but the password's strength, which is checked apart (it is asynchronous). */
function signUpSchema(cities: Cities) {
  return z.object({ username: Username, password: Password, ...newUserFields(cities) });
}

/** Creates a user with log-in credentials. */
export async function signUp(db: Database, input: SignUpInput, cities: Cities): Promise<User> {
  const result = signUpSchema(cities).safeParse(input);
  const fields = result.success ? [] : fieldErrorsOf(result.error);
  if (!fields.some((field) => field.path === 'password') && typeof input.password === 'string') {
    const weak = await passwordProblem(input.password, { username: input.username, name: input.name, city: input.city });
    if (weak) fields.push({ path: 'password', message: weak });
  }
  if (!result.success || fields.length > 0) throw ValidationError.fields(fields);
  const parsed = result.data;
  const user = storedUser(parsed);
  // Hash outside the transaction: argon2 is deliberately slow and must not hold a connection.
  const passwordHash = await hashPassword(input.password);
  try {
    await runTransaction(db, 'sign_up', async (tx) => {
      await tx.insert(users).values(user);
      await tx.insert(userCredentials).values({ city: user.city, userId: user.id, username: parsed.username, passwordHash });
    });
  } catch (error) {
    if (sqlState(error) === UNIQUE_VIOLATION && violatedConstraint(error) === 'user_credentials_username_key') {
      throw domainError('username_taken', { username: parsed.username });
    }
    throw error;
  }
  return { id: user.id, city: user.city, name: user.name, address: user.address, maskedCard: user.creditCard, username: parsed.username };
}

export interface NewUser {
  name: string;
  city: string;
  address?: string | null | undefined;
  /** A payment card number; only its masked form is kept. */
  cardNumber?: string | null | undefined;
}

/**
 * Creates a user without log-in credentials, as the CockroachDB workload does: riders and
 * users of the load generator (`movr workload run`), and data brought from elsewhere. Such a
 * user can ride, own vehicles and hold promo codes, but cannot log in. The same checks as
 * signUp for the fields they share, and no password hashing: it costs one short transaction.
 */
export async function createUser(db: Database, input: NewUser, cities: Cities): Promise<User> {
  const user = storedUser(parseInput(z.object(newUserFields(cities)), input));
  await runTransaction(db, 'create_user', async (tx) => {
    await tx.insert(users).values(user);
  });
  return { id: user.id, city: user.city, name: user.name, address: user.address, maskedCard: user.creditCard, username: null };
}

// Verifying against a real hash when the username is unknown takes as long as a wrong password,
// so response times do not reveal which usernames exist.
let decoyHash: Promise<string> | undefined;

/** The user with these credentials; AuthenticationError('invalid_credentials') otherwise. */
export async function logIn(db: Queryable, username: string, password: string): Promise<User> {
  const [row] = await executorOf(db)
    .select({ city: userCredentials.city, userId: userCredentials.userId, passwordHash: userCredentials.passwordHash })
    .from(userCredentials)
    .where(eq(userCredentials.username, normalizeUsername(username)))
    .limit(1);
  const valid = row
    ? await verifyPassword(row.passwordHash, password)
    : await verifyPassword(await (decoyHash ??= hashPassword(randomUUID())), password).then(() => false);
  if (!row || !valid) throw domainError('invalid_credentials');
  return getUser(db, { city: row.city, id: row.userId });
}

export async function findUser(db: Queryable, ref: UserRef): Promise<User | undefined> {
  const [row] = await executorOf(db)
    .select({
      id: users.id,
      city: users.city,
      name: users.name,
      address: users.address,
      creditCard: users.creditCard,
      username: userCredentials.username,
    })
    .from(users)
    .leftJoin(userCredentials, and(eq(userCredentials.city, users.city), eq(userCredentials.userId, users.id)))
    .where(and(eq(users.city, ref.city), eq(users.id, ref.id)))
    .limit(1);
  if (!row) return undefined;
  return {
    id: row.id,
    city: row.city,
    name: row.name,
    address: row.address,
    maskedCard: row.creditCard,
    username: row.username,
  };
}

export async function getUser(db: Queryable, ref: UserRef): Promise<User> {
  const user = await findUser(db, ref);
  if (!user) throw domainError('user_not_found');
  return user;
}

/**
 * Inside a transaction: refuses a user that does not exist or whose account was deleted (its name
 * is erased). Reading the user's row also makes the transaction conflict with a concurrent
 * deleteAccount (SERIALIZABLE), so nothing is added to an account while it is being deleted.
 */
export async function requireActiveUser(tx: Transaction, ref: UserRef): Promise<void> {
  const [row] = await tx
    .select({ name: users.name })
    .from(users)
    .where(and(eq(users.city, ref.city), eq(users.id, ref.id)))
    .limit(1);
  if (!row || row.name === null) throw domainError('user_not_found');
}

const profileChangesSchema = z.object({
  name: PersonName.optional(),
  address: OptionalAddress,
  cardNumber: OptionalCard,
});

/** Changes name, address and card. The home city and username stay as they are. */
export async function updateProfile(db: Database, ref: UserRef, changes: ProfileChanges): Promise<User> {
  const parsed = parseInput(profileChangesSchema, changes);
  const values: Partial<typeof users.$inferInsert> = {};
  if (parsed.name !== undefined) values.name = parsed.name;
  if (parsed.address !== undefined) values.address = parsed.address?.trim() || null;
  if (parsed.cardNumber !== undefined) values.creditCard = parsed.cardNumber ? maskCardNumber(parsed.cardNumber) : null;
  await runTransaction(db, 'update_profile', async (tx) => {
    await requireActiveUser(tx, ref);
    if (Object.keys(values).length === 0) return;
    const updated = await tx
      .update(users)
      .set(values)
      .where(and(eq(users.city, ref.city), eq(users.id, ref.id)))
      .returning({ id: users.id });
    if (updated.length === 0) throw domainError('user_not_found');
  });
  return getUser(db, ref);
}

export interface PasswordChange {
  currentPassword: string;
  newPassword: string;
  /** The session the change is made from: it stays (every other one ends). */
  keepSession?: string | undefined;
  /** The API token the change is made with: it stays (every other one is revoked). */
  keepToken?: string | undefined;
}

/** The message of a wrong current password. */
export const WRONG_CURRENT_PASSWORD = 'That is not your current password.';

/**
 * Changes the password, given the current one. Every other session of the user ends and every
 * other API token is revoked, in the same transaction: whoever knew the old password is out.
 */
export async function changePassword(db: Database, ref: UserRef, change: PasswordChange): Promise<void> {
  const [row] = await executorOf(db)
    .select({ username: userCredentials.username, passwordHash: userCredentials.passwordHash, name: users.name })
    .from(userCredentials)
    .innerJoin(users, and(eq(users.city, userCredentials.city), eq(users.id, userCredentials.userId)))
    .where(and(eq(userCredentials.city, ref.city), eq(userCredentials.userId, ref.id)))
    .limit(1);
  if (!row) throw domainError('user_not_found');
  const current = typeof change.currentPassword === 'string' ? change.currentPassword : '';
  const next = typeof change.newPassword === 'string' ? change.newPassword : '';
  if (current === '') throw ValidationError.field('currentPassword', 'Enter your current password.');
  if (!(await verifyPassword(row.passwordHash, current))) throw ValidationError.field('currentPassword', WRONG_CURRENT_PASSWORD);
  if (next === current) throw ValidationError.field('newPassword', 'Choose a new password, not the one you have now.');
  const weak = await passwordProblem(next, { username: row.username, name: row.name, city: ref.city });
  if (weak) throw ValidationError.field('newPassword', weak);
  const passwordHash = await hashPassword(next);
  await runTransaction(db, 'change_password', async (tx) => {
    await requireActiveUser(tx, ref);
    await tx
      .update(userCredentials)
      .set({ passwordHash })
      .where(and(eq(userCredentials.city, ref.city), eq(userCredentials.userId, ref.id)));
    await endAllSessions(tx, ref, change.keepSession);
    const live = and(eq(apiTokens.city, ref.city), eq(apiTokens.userId, ref.id), isNull(apiTokens.revokedAt));
    await tx
      .update(apiTokens)
      .set({ revokedAt: new Date() })
      .where(change.keepToken === undefined ? live : and(live, ne(apiTokens.id, change.keepToken)));
  });
}

/**
 * What deleting an account keeps of the rows that refer to the user: rides and vehicles (rides
 * refer to both; the user row stays too, anonymous). Every other table that refers to users is
 * emptied of the user's rows, whichever tables the schema grows.
 */
const KEPT_WITH_ACCOUNT: readonly MovrTable[] = [rides, vehicles];
const ERASED_WITH_ACCOUNT = USER_REFERENCES.filter((reference) => !KEPT_WITH_ACCOUNT.includes(reference.table));

/**
 * Deletes an account: erases the personal fields, the credentials, API tokens and promo codes, and retires
 * the user's vehicles that are not out on a ride. The user row stays, anonymous, because rides
 * refer to it. Refused while the user has an open ride.
 */
export async function deleteAccount(db: Database, ref: UserRef): Promise<void> {
  await runTransaction(db, 'delete_account', async (tx) => {
    const [user] = await tx
      .select({ id: users.id })
      .from(users)
      .where(and(eq(users.city, ref.city), eq(users.id, ref.id)));
    if (!user) throw domainError('user_not_found');
    const [open] = await tx
      .select({ id: rides.id })
      .from(rides)
      .where(and(eq(rides.city, ref.city), eq(rides.riderId, ref.id), isNull(rides.endTime)))
      .limit(1);
    if (open) throw domainError('ride_open');
    await tx
      .update(users)
      .set({ name: null, address: null, creditCard: null })
      .where(and(eq(users.city, ref.city), eq(users.id, ref.id)));
    for (const { table, city, userId } of ERASED_WITH_ACCOUNT) {
      await tx.delete(table).where(and(eq(city, ref.city), eq(userId, ref.id)));
    }
    await tx
      .update(vehicles)
      .set({ status: 'retired' })
      .where(
        and(
          eq(vehicles.city, ref.city),
          eq(vehicles.ownerId, ref.id),
          or(isNull(vehicles.status), ne(vehicles.status, 'in_use')),
        ),
      );
  });
}
