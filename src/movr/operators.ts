// Operators: the users who run the platform (promo campaigns, the fleet, the numbers), and the
// record of what they did. The role is a row in `operators`, granted and revoked with
// `movr operators grant|revoke <username>` (decision 0023). Every operator action writes an
// operator_actions row in the action's own transaction, so the record and the change commit or
// fail together.
import { randomUUID } from 'node:crypto';
import { and, desc, eq, lt, or } from 'drizzle-orm';
import { type Database, type Queryable, type Transaction, executorOf } from '../db/connect.ts';
import { FOREIGN_KEY_VIOLATION, sqlState } from '../db/errors.ts';
import { operatorActions, operators, userCredentials } from '../db/schema.ts';
import { runTransaction } from '../db/transaction.ts';
import { ValidationError, domainError } from './errors.ts';
import { INVALID_PAGE_LINK, type Page, isUuid, pageSize } from './rules.ts';
import { type UserRef, normalizeUsername } from './users.ts';

/** An operator acting: who they are, as recorded with each action. */
export interface Operator extends UserRef {
  readonly username: string | null;
}

/** What operators do; each is recorded with a subject (a code, a vehicle, a user). */
export const OPERATOR_ACTIONS = [
  'operator_granted',
  'operator_revoked',
  'promo_code_created',
  'promo_code_updated',
  'promo_code_ended',
  'promo_code_given',
  'vehicle_reported_lost',
  'vehicle_found',
] as const;
export type OperatorActionKind = (typeof OPERATOR_ACTIONS)[number];

export interface OperatorAction {
  readonly id: string;
  readonly city: string;
  readonly operatorId: string;
  readonly operatorUsername: string | null;
  readonly action: string;
  readonly subject: string;
  readonly details: Record<string, unknown> | null;
  readonly at: Date;
}

/** The operator among users, or undefined: one key look-up, made by every operator request. */
export async function findOperator(db: Queryable, user: UserRef): Promise<Operator | undefined> {
  if (!isUuid(user.id)) return undefined;
  const [row] = await executorOf(db)
    .select({ city: operators.city, id: operators.userId, username: userCredentials.username })
    .from(operators)
    .leftJoin(userCredentials, and(eq(userCredentials.city, operators.city), eq(userCredentials.userId, operators.userId)))
    .where(and(eq(operators.city, user.city), eq(operators.userId, user.id)))
    .limit(1);
  return row;
}

/** The id recorded for actions of the `movr` command (run by whoever runs the database). */
export const COMMAND_LINE_ID = '00000000-0000-0000-0000-000000000000';

/** The `movr` command as the actor of an action about a user of that city. */
function commandLine(city: string): Operator {
  return { city, id: COMMAND_LINE_ID, username: null };
}

/** Records an operator's action inside the transaction that does it. */
export async function recordAction(
  tx: Transaction,
  operator: Operator,
  action: OperatorActionKind,
  subject: string,
  details: Record<string, unknown> | null = null,
  now: Date = new Date(),
): Promise<void> {
  await tx.insert(operatorActions).values({
    city: operator.city,
    id: randomUUID(),
    operatorId: operator.id,
    operatorUsername: operator.username,
    action,
    subject,
    details,
    at: now,
  });
}

async function userByUsername(tx: Transaction, username: string): Promise<UserRef> {
  const name = normalizeUsername(username);
  const [row] = await tx
    .select({ city: userCredentials.city, id: userCredentials.userId })
    .from(userCredentials)
    .where(eq(userCredentials.username, name))
    .limit(1);
  if (!row) throw domainError('username_not_found', { username: name });
  return row;
}

/** The user with this username, or NotFoundError('username_not_found'). */
export async function findUserByUsername(db: Database, username: string): Promise<UserRef> {
  return runTransaction(db, 'find_user_by_username', (tx) => userByUsername(tx, username));
}

/**
 * Makes the user an operator. `by` is who granted it (null: the `movr` command, run by whoever
 * runs the database). Granting it again changes nothing; answers whether the user was one already.
 */
export async function grantOperator(
  db: Database,
  username: string,
  options: { by?: Operator | null; now?: Date } = {},
): Promise<{ user: UserRef; changed: boolean }> {
  const now = options.now ?? new Date();
  try {
    return await runTransaction(db, 'grant_operator', async (tx) => {
      const user = await userByUsername(tx, username);
      const inserted = await tx
        .insert(operators)
        .values({ city: user.city, userId: user.id, grantedAt: now })
        .onConflictDoNothing()
        .returning({ id: operators.userId });
      if (inserted.length > 0) await recordAction(tx, options.by ?? commandLine(user.city), 'operator_granted', normalizeUsername(username), null, now);
      return { user, changed: inserted.length > 0 };
    });
  } catch (error) {
    if (sqlState(error) === FOREIGN_KEY_VIOLATION) throw domainError('username_not_found', { username: normalizeUsername(username) });
    throw error;
  }
}

/** Takes the role away; answers whether the user was an operator. */
export async function revokeOperator(
  db: Database,
  username: string,
  options: { by?: Operator | null; now?: Date } = {},
): Promise<{ user: UserRef; changed: boolean }> {
  const now = options.now ?? new Date();
  return runTransaction(db, 'revoke_operator', async (tx) => {
    const user = await userByUsername(tx, username);
    const deleted = await tx
      .delete(operators)
      .where(and(eq(operators.city, user.city), eq(operators.userId, user.id)))
      .returning({ id: operators.userId });
    if (deleted.length > 0) await recordAction(tx, options.by ?? commandLine(user.city), 'operator_revoked', normalizeUsername(username), null, now);
    return { user, changed: deleted.length > 0 };
  });
}

/** Every operator, by username. */
export async function listOperators(db: Queryable): Promise<(Operator & { grantedAt: Date })[]> {
  const rows = await executorOf(db)
    .select({ city: operators.city, id: operators.userId, username: userCredentials.username, grantedAt: operators.grantedAt })
    .from(operators)
    .leftJoin(userCredentials, and(eq(userCredentials.city, operators.city), eq(userCredentials.userId, operators.userId)));
  return rows.sort((a, b) => (a.username ?? '').localeCompare(b.username ?? ''));
}

function encodeCursor(action: OperatorAction): string {
  return Buffer.from(JSON.stringify([action.at.toISOString(), action.id])).toString('base64url');
}

function decodeCursor(cursor: string): { at: Date; id: string } {
  try {
    const [time, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    const at = new Date(String(time));
    if (typeof id === 'string' && isUuid(id) && !Number.isNaN(at.getTime())) return { at, id };
  } catch {
    // fall through
  }
  throw ValidationError.field('cursor', INVALID_PAGE_LINK);
}

/** What operators did, newest first, a page at a time. */
export async function listActions(
  db: Queryable,
  options: { limit?: number | undefined; cursor?: string | undefined } = {},
): Promise<Page<OperatorAction>> {
  const limit = pageSize(options.limit);
  const after = options.cursor ? decodeCursor(options.cursor) : undefined;
  const rows = await executorOf(db)
    .select()
    .from(operatorActions)
    .where(
      after ? or(lt(operatorActions.at, after.at), and(eq(operatorActions.at, after.at), lt(operatorActions.id, after.id))) : undefined,
    )
    .orderBy(desc(operatorActions.at), desc(operatorActions.id))
    .limit(limit + 1);
  const items: OperatorAction[] = rows.slice(0, limit).map((row) => ({
    id: row.id,
    city: row.city,
    operatorId: row.operatorId,
    operatorUsername: row.operatorUsername,
    action: row.action,
    subject: row.subject,
    details: row.details,
    at: row.at,
  }));
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
}
