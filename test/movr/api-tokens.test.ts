import { beforeAll, describe, expect, it } from 'vitest';
import { issueToken, revokeToken, tokenSigningKey, verifyToken } from '../../src/movr/api-tokens.ts';
import { AuthenticationError } from '../../src/movr/errors.ts';
import { type User, deleteAccount } from '../../src/movr/users.ts';
import { createUser } from '../support/factories.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { expectError } from './fixtures.ts';

const key = tokenSigningKey('k'.repeat(40));

describe('tokenSigningKey', () => {
  it('derives a different 32-byte key from a different secret', () => {
    expect(key).toHaveLength(32);
    expect(tokenSigningKey('x'.repeat(40)).equals(key)).toBe(false);
  });
});

describeEachDatabase('api tokens', (t) => {
  let user: User;

  beforeAll(async () => {
    user = await createUser(t.db, { city: 'paris' });
  });

  it('verifies a fresh token as its owner', async () => {
    const { token, expiresAt } = await issueToken(t.db, user, key);
    expect(token).toMatch(/^movr_[\w-]+\.[\w-]{43}$/);
    expect(expiresAt.getTime()).toBeGreaterThan(Date.now());
    expect(await verifyToken(t.db.orm, token, key)).toMatchObject({ city: 'paris', id: user.id });
  });

  it('refuses a tampered, foreign-key-signed, malformed or expired token', async () => {
    const { token } = await issueToken(t.db, user, key, { now: new Date(), lifetimeMs: 60_000 });
    const [payload, signature] = token.split('.') as [string, string];
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload.slice(5), 'base64url').toString()), e: 4102444800 }),
    ).toString('base64url');
    const refusals = [
      `movr_${forged}.${signature}`,
      `${payload}.${signature.slice(0, -1)}${signature.endsWith('A') ? 'B' : 'A'}`,
      'movr_garbage',
      '',
    ];
    for (const bad of refusals) await expectError(verifyToken(t.db.orm, bad, key), AuthenticationError, 'invalid_token');
    await expectError(verifyToken(t.db.orm, token, tokenSigningKey('y'.repeat(40))), AuthenticationError, 'invalid_token');
    await expectError(
      verifyToken(t.db.orm, token, key, { now: new Date(Date.now() + 120_000) }),
      AuthenticationError,
      'invalid_token',
    );
  });

  it('refuses a revoked token and keeps the others valid', async () => {
    const first = await issueToken(t.db, user, key);
    const second = await issueToken(t.db, user, key);
    await revokeToken(t.db, await verifyToken(t.db.orm, first.token, key));
    await expectError(verifyToken(t.db.orm, first.token, key), AuthenticationError, 'invalid_token');
    expect(await verifyToken(t.db.orm, second.token, key)).toMatchObject({ id: user.id });
  });

  it('refuses every token of a deleted account', async () => {
    const leaving = await createUser(t.db, { city: 'rome' });
    const { token } = await issueToken(t.db, leaving, key);
    await deleteAccount(t.db, leaving);
    await expectError(verifyToken(t.db.orm, token, key), AuthenticationError, 'invalid_token');
  });
});
