// Riders and owners: signing up, logging in, the profile, deleting an account.
//
// A user lives in their home city: `users` is keyed by (city, id), and the workload schema's
// foreign keys tie a user's rides and vehicles to that city. The home city is therefore chosen
// at sign-up and fixed afterwards.
import { randomUUID } from 'node:crypto';
import { and, eq, isNull, ne, or } from 'drizzle-orm';
import type { Database, Executor } from '../db/connect.ts';
import { UNIQUE_VIOLATION, sqlState, violatedConstraint } from '../db/errors.ts';
import { apiTokens, idempotencyKeys, rides, userCredentials, userPromoCodes, users, vehicles } from '../db/schema.ts';
import { runTransaction } from '../db/transaction.ts';
import { findCity } from './cities.ts';
import { COMMON_PASSWORDS } from './common-passwords.ts';
import { AuthenticationError, ConflictError, type FieldError, NotFoundError, ValidationError } from './errors.ts';
import { hashPassword, verifyPassword } from './passwords.ts';

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

export const USERNAME_RULE = '3 to 32 letters, digits, dots, dashes or underscores, starting and ending with a letter or digit';
const USERNAME_PATTERN = /^[a-z0-9](?:[a-z0-9._-]{1,30})[a-z0-9]$/;
export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 128;
export const NAME_MAX_LENGTH = 100;
export const ADDRESS_MAX_LENGTH = 200;

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

/** Usernames are case-insensitive: stored and compared lower-cased. */
export function normalizeUsername(username: string): string {
  return username.trim().toLowerCase();
}

/** Why a password is refused, or undefined when it is acceptable. */
export function passwordProblem(password: string, username = ''): string | undefined {
  if (password.length < PASSWORD_MIN_LENGTH) return `Use at least ${PASSWORD_MIN_LENGTH} characters.`;
  if (password.length > PASSWORD_MAX_LENGTH) return `Use at most ${PASSWORD_MAX_LENGTH} characters.`;
  const lower = password.toLowerCase();
  if (COMMON_PASSWORDS.has(lower) || /^(.)\1+$/.test(password) || /^(?:0123456789|1234567890)+\d*$/.test(password)) {
    return 'That password is too common. Choose one that is harder to guess.';
  }
  const name = normalizeUsername(username);
  if (name.length >= 3 && lower.includes(name)) return 'Your password must not contain your username.';
  return undefined;
}

/** Luhn-checked card digits (spaces and dashes allowed) as "**** **** **** 1234". */
export function maskCardNumber(cardNumber: string): string {
  const digits = cardNumber.replace(/[\s-]/g, '');
  if (!/^\d{4,19}$/.test(digits)) throw new RangeError('A card number must have 4 to 19 digits');
  return `**** **** **** ${digits.slice(-4)}`;
}

function cardProblem(cardNumber: string): string | undefined {
  const digits = cardNumber.replace(/[\s-]/g, '');
  if (!/^\d{12,19}$/.test(digits)) return 'Enter the 12 to 19 digits of your card number.';
  if (!luhnValid(digits)) return 'That card number is not valid. Check it for typing mistakes.';
  return undefined;
}

function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

function blankToNull(value: string | null | undefined): string | null {
  const trimmed = value?.trim();
  return trimmed ? trimmed : null;
}

function checkName(name: string, problems: FieldError[]): void {
  if (name.length === 0) problems.push({ path: 'name', message: 'Enter your name.' });
  else if (name.length > NAME_MAX_LENGTH) problems.push({ path: 'name', message: `Use at most ${NAME_MAX_LENGTH} characters.` });
}

function checkAddress(address: string | null, problems: FieldError[]): void {
  if (address && address.length > ADDRESS_MAX_LENGTH) {
    problems.push({ path: 'address', message: `Use at most ${ADDRESS_MAX_LENGTH} characters.` });
  }
}

/**
 * The checks signUp and createUser share: name, home city, address and card. Appends what is
 * wrong to `problems` and returns the values to store (the card masked).
 */
function checkedNewUser(
  input: NewUser,
  problems: FieldError[],
): { name: string; address: string | null; creditCard: string | null } {
  const name = input.name.trim();
  const address = blankToNull(input.address);
  const card = blankToNull(input.cardNumber);
  checkName(name, problems);
  if (!findCity(input.city)) problems.push({ path: 'city', message: 'Choose one of the cities MovR serves.' });
  checkAddress(address, problems);
  const badCard = card ? cardProblem(card) : undefined;
  if (badCard) problems.push({ path: 'cardNumber', message: badCard });
  return { name, address, creditCard: card && !badCard ? maskCardNumber(card) : null };
}

function throwIfAny(problems: FieldError[]): void {
  if (problems.length === 1) throw new ValidationError(problems[0]!.message, problems);
  if (problems.length > 1) throw new ValidationError('Some of the details are not valid.', problems);
}

/** Creates a user with log-in credentials. */
export async function signUp(db: Database, input: SignUpInput): Promise<User> {
  const username = normalizeUsername(input.username);
  const problems: FieldError[] = [];
  if (!USERNAME_PATTERN.test(username)) problems.push({ path: 'username', message: `Use ${USERNAME_RULE}.` });
  const weak = passwordProblem(input.password, username);
  if (weak) problems.push({ path: 'password', message: weak });
  const { name, address, creditCard } = checkedNewUser(input, problems);
  throwIfAny(problems);

  // Hash outside the transaction: argon2 is deliberately slow and must not hold a connection.
  const passwordHash = await hashPassword(input.password);
  const user = { id: randomUUID(), city: input.city, name, address, creditCard };
  try {
    await runTransaction(db, 'sign_up', async (tx) => {
      await tx.insert(users).values(user);
      await tx.insert(userCredentials).values({ city: user.city, userId: user.id, username, passwordHash });
    });
  } catch (error) {
    if (sqlState(error) === UNIQUE_VIOLATION && violatedConstraint(error) === 'user_credentials_username_key') {
      throw new ConflictError(`The username "${username}" is taken. Choose another.`, 'username_taken');
    }
    throw error;
  }
  return { id: user.id, city: user.city, name, address, maskedCard: user.creditCard, username };
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
export async function createUser(db: Database, input: NewUser): Promise<User> {
  const problems: FieldError[] = [];
  const { name, address, creditCard } = checkedNewUser(input, problems);
  throwIfAny(problems);
  const user = { id: randomUUID(), city: input.city, name, address, creditCard };
  await runTransaction(db, 'create_user', async (tx) => {
    await tx.insert(users).values(user);
  });
  return { id: user.id, city: user.city, name, address, maskedCard: user.creditCard, username: null };
}

// Verifying against a real hash when the username is unknown takes as long as a wrong password,
// so response times do not reveal which usernames exist.
let decoyHash: Promise<string> | undefined;

/** The user with these credentials; AuthenticationError('invalid_credentials') otherwise. */
export async function logIn(db: Executor, username: string, password: string): Promise<User> {
  const [row] = await db
    .select({ city: userCredentials.city, userId: userCredentials.userId, passwordHash: userCredentials.passwordHash })
    .from(userCredentials)
    .where(eq(userCredentials.username, normalizeUsername(username)))
    .limit(1);
  const valid = row
    ? await verifyPassword(row.passwordHash, password)
    : await verifyPassword(await (decoyHash ??= hashPassword(randomUUID())), password).then(() => false);
  if (!row || !valid) throw new AuthenticationError('The username or password is not right.', 'invalid_credentials');
  return getUser(db, { city: row.city, id: row.userId });
}

export async function findUser(db: Executor, ref: UserRef): Promise<User | undefined> {
  const [row] = await db
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

export async function getUser(db: Executor, ref: UserRef): Promise<User> {
  const user = await findUser(db, ref);
  if (!user) throw new NotFoundError('That user does not exist.', 'user_not_found');
  return user;
}

/**
 * Inside a transaction: refuses a user that does not exist or whose account was deleted (its name
 * is erased). Reading the user's row also makes the transaction conflict with a concurrent
 * deleteAccount (SERIALIZABLE), so nothing is added to an account while it is being deleted.
 */
export async function requireActiveUser(tx: Executor, ref: UserRef): Promise<void> {
  const [row] = await tx
    .select({ name: users.name })
    .from(users)
    .where(and(eq(users.city, ref.city), eq(users.id, ref.id)))
    .limit(1);
  if (!row || row.name === null) throw new NotFoundError('That user does not exist.', 'user_not_found');
}

/** Changes name, address and card. The home city and username stay as they are. */
export async function updateProfile(db: Database, ref: UserRef, changes: ProfileChanges): Promise<User> {
  const values: Partial<typeof users.$inferInsert> = {};
  const problems: FieldError[] = [];
  if (changes.name !== undefined) {
    values.name = changes.name.trim();
    checkName(values.name, problems);
  }
  if (changes.address !== undefined) {
    values.address = blankToNull(changes.address);
    checkAddress(values.address, problems);
  }
  if (changes.cardNumber !== undefined) {
    const card = blankToNull(changes.cardNumber);
    const badCard = card ? cardProblem(card) : undefined;
    if (badCard) problems.push({ path: 'cardNumber', message: badCard });
    else values.creditCard = card ? maskCardNumber(card) : null;
  }
  throwIfAny(problems);
  await runTransaction(db, 'update_profile', async (tx) => {
    await requireActiveUser(tx, ref);
    if (Object.keys(values).length === 0) return;
    const updated = await tx
      .update(users)
      .set(values)
      .where(and(eq(users.city, ref.city), eq(users.id, ref.id)))
      .returning({ id: users.id });
    if (updated.length === 0) throw new NotFoundError('That user does not exist.', 'user_not_found');
  });
  return getUser(db.orm, ref);
}

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
    if (!user) throw new NotFoundError('That user does not exist.', 'user_not_found');
    const [open] = await tx
      .select({ id: rides.id })
      .from(rides)
      .where(and(eq(rides.city, ref.city), eq(rides.riderId, ref.id), isNull(rides.endTime)))
      .limit(1);
    if (open) throw new ConflictError('End your ride before deleting your account.', 'ride_open');
    await tx
      .update(users)
      .set({ name: null, address: null, creditCard: null })
      .where(and(eq(users.city, ref.city), eq(users.id, ref.id)));
    await tx.delete(userCredentials).where(and(eq(userCredentials.city, ref.city), eq(userCredentials.userId, ref.id)));
    await tx.delete(apiTokens).where(and(eq(apiTokens.city, ref.city), eq(apiTokens.userId, ref.id)));
    await tx.delete(idempotencyKeys).where(and(eq(idempotencyKeys.city, ref.city), eq(idempotencyKeys.userId, ref.id)));
    await tx.delete(userPromoCodes).where(and(eq(userPromoCodes.city, ref.city), eq(userPromoCodes.userId, ref.id)));
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
