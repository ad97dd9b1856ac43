// Users against the real databases: sign-up (validation, hashing, card masking, taken
// usernames), log-in, profile changes and account deletion.
import { and, eq } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import { rides, userCredentials, userPromoCodes, users, vehicles } from '../../src/db/schema.ts';
import {
  AuthenticationError,
  ConflictError,
  NotFoundError,
  ValidationError,
} from '../../src/movr/errors.ts';
import { addPromoCode, listUserPromoCodes } from '../../src/movr/promo-codes.ts';
import { DEFAULT_PRICE_LIST } from '../../src/movr/pricing.ts';
import { endRide, getRide, listRides, startRide } from '../../src/movr/rides.ts';
import {
  type SignUpInput,
  type UserRef,
  deleteAccount,
  findUser,
  getUser,
  logIn,
  maskCardNumber,
  normalizeUsername,
  passwordProblem,
  signUp,
  updateProfile,
} from '../../src/movr/users.ts';
import { addVehicle, getVehicle, listOwnedVehicles } from '../../src/movr/vehicles.ts';
import { verifyPassword } from '../../src/movr/passwords.ts';
import {
  BAD_LUHN,
  MASTERCARD,
  TEST_CITIES,
  TEST_PASSWORD,
  VISA,
  createUser,
  insertPromoCode,
  uniqueUsername,
} from '../support/factories.ts';
import { snapshot } from '../support/snapshot.ts';
import { describeEachDatabase, emptyTables } from '../support/databases.ts';
import { expectError } from './fixtures.ts';

function input(overrides: Partial<SignUpInput> = {}): SignUpInput {
  return {
    username: uniqueUsername('rider'),
    password: TEST_PASSWORD,
    name: 'Ada Lovelace',
    city: 'boston',
    address: '12 Beacon Street',
    cardNumber: VISA,
    ...overrides,
  };
}

describe('password and card rules', () => {
  it('refuses short and long passwords, and easy ones with zxcvbn’s reason and advice', async () => {
    expect(await passwordProblem('short1!')).toMatch(/at least 10/);
    expect(await passwordProblem('x'.repeat(129) + 'Y')).toMatch(/at most 128/);
    // The weak passwords the issue found accepted, and a few classics.
    for (const weak of [
      'passwordpassword',
      'letmeinletmein',
      'iloveyou1234',
      'abcdefghijk',
      'Summer2027!',
      'newyork2026',
      'password123',
      'PASSWORD123',
      'aaaaaaaaaaaa',
      '12345678901234',
    ]) {
      const problem = await passwordProblem(weak);
      expect(problem, weak).toMatch(/^That password is too easy to guess\. /);
      expect(problem, weak).toMatch(/A few unrelated words/);
    }
    expect(await passwordProblem('abcdefghijk')).toMatch(/sequences like "abc"/i);
    expect(await passwordProblem('passwordpassword')).toMatch(/repeat/i);
    expect(await passwordProblem(TEST_PASSWORD, { username: 'alice' })).toBeUndefined();
  });

  it('counts the username, name and city as words an attacker knows', async () => {
    expect(await passwordProblem('Grace Hopper 1906')).toBeUndefined();
    expect(await passwordProblem('Grace Hopper 1906', { name: 'Grace Hopper' })).toMatch(/personal/);
    expect(await passwordProblem('zqxvbrider1906', { username: 'zqxvbrider' })).toBe('Your password must not contain your username.');
    expect(await passwordProblem('adalovelace1815')).toBeUndefined();
    expect(await passwordProblem('adalovelace1815', { name: 'Ada Lovelace', city: 'new york' })).toMatch(/personal/);
  });

  it('masks a card to its last four digits', () => {
    expect(maskCardNumber(VISA)).toBe('**** **** **** 1111');
    expect(maskCardNumber(MASTERCARD)).toBe('**** **** **** 4444');
    expect(() => maskCardNumber('12ab')).toThrow(RangeError);
  });

  it('normalises usernames to lower case without surrounding spaces', () => {
    expect(normalizeUsername('  Ada.Lovelace ')).toBe('ada.lovelace');
  });
});

describeEachDatabase('users', (t) => {
  beforeEach(async () => {
    await emptyTables(t.db);
  });

  async function credentialsOf(ref: UserRef) {
    return t.db.orm
      .select()
      .from(userCredentials)
      .where(and(eq(userCredentials.city, ref.city), eq(userCredentials.userId, ref.id)));
  }

  async function userRow(ref: UserRef) {
    const [row] = await t.db.orm.select().from(users).where(and(eq(users.city, ref.city), eq(users.id, ref.id)));
    return row;
  }

  describe('signUp', () => {
    it('stores a lower-cased username, an argon2 hash and only the masked card', async () => {
      const username = `Ada.${uniqueUsername('L')}`;
      const user = await signUp(t.db, input({ username: `  ${username} `, name: '  Ada Lovelace ', address: '  12 Beacon Street ' }), TEST_CITIES);
      expect(user).toMatchObject({
        city: 'boston',
        name: 'Ada Lovelace',
        address: '12 Beacon Street',
        maskedCard: '**** **** **** 1111',
        username: username.toLowerCase(),
      });
      expect(user.id).toMatch(/^[0-9a-f-]{36}$/);

      const row = await userRow(user);
      expect(row).toEqual({
        id: user.id,
        city: 'boston',
        name: 'Ada Lovelace',
        address: '12 Beacon Street',
        creditCard: '**** **** **** 1111',
      });
      // The full number appears nowhere in the user's row, with or without separators.
      const rowText = JSON.stringify(row);
      expect(rowText).not.toContain('4111111111111111');
      expect(rowText).not.toContain('4111 1111 1111 1111');
      expect(rowText).not.toContain('411111');

      const [credentials] = await credentialsOf(user);
      expect(credentials?.username).toBe(username.toLowerCase());
      expect(credentials?.passwordHash).toMatch(/^\$argon2id\$/);
      expect(credentials?.passwordHash).not.toContain(TEST_PASSWORD);
      expect(await verifyPassword(credentials!.passwordHash, TEST_PASSWORD)).toBe(true);
      // Nothing in the database holds the password in clear.
      expect(JSON.stringify(await snapshot(t.db))).not.toContain(TEST_PASSWORD);

      expect(await getUser(t.db.orm, user)).toEqual(user);
    });

    it('accepts a user without address and card', async () => {
      const user = await signUp(t.db, input({ address: '   ', cardNumber: '' }), TEST_CITIES);
      expect(user).toMatchObject({ address: null, maskedCard: null });
      expect(await userRow(user)).toMatchObject({ address: null, creditCard: null });
    });

    it('reports every field problem at once and writes nothing', async () => {
      const before = await snapshot(t.db);
      const error = await expectError(
        signUp(t.db, {
          username: 'x',
          password: 'short',
          name: '   ',
          city: 'atlantis',
          address: 'a'.repeat(201),
          cardNumber: BAD_LUHN,
        }, TEST_CITIES),
        ValidationError,
        'validation_failed',
      );
      expect(error.fields.map((f) => f.path)).toEqual(['username', 'password', 'name', 'city', 'address', 'cardNumber']);
      for (const field of error.fields) expect(field.message.length).toBeGreaterThan(0);
      expect(await snapshot(t.db)).toEqual(before);
    });

    it('gives the message of the only problem when there is one', async () => {
      const error = await expectError(signUp(t.db, input({ city: 'chicago' }), TEST_CITIES), ValidationError);
      expect(error.fields).toEqual([{ path: 'city', message: error.message }]);
    });

    it.each([
      ['too short', 'Sh0rt!'],
      ['too long', `${'Ab1-'.repeat(33)}`],
      ['common', 'password123'],
      ['common in another case', 'Password123'],
      ['one repeated character', 'zzzzzzzzzzzz'],
      ['a digit run', '1234567890123'],
    ])('refuses a %s password', async (_, password) => {
      const error = await expectError(signUp(t.db, input({ password }), TEST_CITIES), ValidationError);
      expect(error.fields.map((f) => f.path)).toEqual(['password']);
      expect(await t.db.execute('SELECT 1 FROM users')).toEqual([]);
    });

    it('refuses a password that contains the username, in any case', async () => {
      const error = await expectError(
        signUp(t.db, input({ username: 'GraceHopper', password: 'xx-gracehopper-1906' }), TEST_CITIES),
        ValidationError,
      );
      expect(error.fields).toEqual([{ path: 'password', message: 'Your password must not contain your username.' }]);
      await expectError(signUp(t.db, input({ username: 'gracehopper', password: 'xx-GRACEHOPPER-1906' }), TEST_CITIES), ValidationError);
      expect(await t.db.execute('SELECT 1 FROM user_credentials')).toEqual([]);
    });

    it.each([
      ['too short', 'ab'],
      ['too long', 'a'.repeat(33)],
      ['with a space', 'ada lovelace'],
      ['starting with a dot', '.ada'],
      ['ending with a dash', 'ada-'],
      ['with a non-ASCII letter', 'adà'],
      ['empty', ''],
    ])('refuses a username %s', async (_, username) => {
      const error = await expectError(signUp(t.db, input({ username }), TEST_CITIES), ValidationError);
      expect(error.fields.map((f) => f.path)).toContain('username');
      expect(await t.db.execute('SELECT 1 FROM users')).toEqual([]);
    });

    it('refuses a Luhn-invalid or malformed card number and writes nothing', async () => {
      for (const cardNumber of [BAD_LUHN, '4111', '4111 1111 1111 111x', '1'.repeat(20)]) {
        const error = await expectError(signUp(t.db, input({ cardNumber }), TEST_CITIES), ValidationError);
        expect(error.fields.map((f) => f.path)).toEqual(['cardNumber']);
      }
      expect(await t.db.execute('SELECT 1 FROM users')).toEqual([]);
    });

    it('refuses a name or address that is too long', async () => {
      const error = await expectError(
        signUp(t.db, input({ name: 'n'.repeat(101), address: 'a'.repeat(201) }), TEST_CITIES),
        ValidationError,
      );
      expect(error.fields.map((f) => f.path)).toEqual(['name', 'address']);
      // The limits themselves are allowed.
      const user = await signUp(t.db, input({ name: 'n'.repeat(100), address: 'a'.repeat(200) }), TEST_CITIES);
      expect(user.name).toHaveLength(100);
    });

    it('refuses a city MovR does not serve, including a differently written one', async () => {
      for (const city of ['atlantis', 'Boston', ' boston', '']) {
        const error = await expectError(signUp(t.db, input({ city }), TEST_CITIES), ValidationError);
        expect(error.fields.map((f) => f.path)).toEqual(['city']);
      }
      expect(await t.db.execute('SELECT 1 FROM users')).toEqual([]);
    });

    it('refuses a taken username, also in another case, and writes nothing', async () => {
      const first = await signUp(t.db, input({ username: 'marie.curie' }), TEST_CITIES);
      const before = await snapshot(t.db);
      for (const username of ['marie.curie', 'Marie.Curie', ' MARIE.CURIE ']) {
        const error = await expectError(
          signUp(t.db, input({ username, name: 'Someone Else', city: 'paris' }), TEST_CITIES),
          ConflictError,
          'username_taken',
        );
        expect(error.kind).toBe('conflict');
        expect(error.message).toContain('marie.curie');
      }
      expect(await snapshot(t.db)).toEqual(before);
      expect(await t.db.execute('SELECT id::text FROM users')).toEqual([{ id: first.id }]);
    });

    it('lets only one of two simultaneous sign-ups with one username through', async () => {
      const results = await Promise.allSettled([
        signUp(t.db, input({ username: 'same.name', city: 'rome' }), TEST_CITIES),
        signUp(t.db, input({ username: 'Same.Name', city: 'seattle' }), TEST_CITIES),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const [rejected] = results.filter((r) => r.status === 'rejected');
      expect(rejected?.reason).toBeInstanceOf(ConflictError);
      expect((rejected?.reason as ConflictError).code).toBe('username_taken');
      expect(await t.db.execute('SELECT count(*)::int AS n FROM users')).toEqual([{ n: 1 }]);
      expect(await t.db.execute('SELECT count(*)::int AS n FROM user_credentials')).toEqual([{ n: 1 }]);
    });
  });

  describe('logIn', () => {
    it('returns the user for the right password, whatever the username case', async () => {
      const user = await signUp(t.db, input({ username: 'alan.turing' }), TEST_CITIES);
      expect(await logIn(t.db.orm, 'alan.turing', TEST_PASSWORD)).toEqual(user);
      expect(await logIn(t.db.orm, ' Alan.Turing ', TEST_PASSWORD)).toEqual(user);
    });

    it('refuses a wrong password and an unknown user with the same error', async () => {
      await signUp(t.db, input({ username: 'alan.turing' }), TEST_CITIES);
      const wrong = await expectError(logIn(t.db.orm, 'alan.turing', `${TEST_PASSWORD}x`), AuthenticationError, 'invalid_credentials');
      const unknown = await expectError(logIn(t.db.orm, 'nobody.here', TEST_PASSWORD), AuthenticationError, 'invalid_credentials');
      expect(wrong.message).toBe(unknown.message);
      expect(wrong.kind).toBe('unauthenticated');
      await expectError(logIn(t.db.orm, 'alan.turing', ''), AuthenticationError, 'invalid_credentials');
      await expectError(logIn(t.db.orm, 'alan.turing', TEST_PASSWORD.toUpperCase()), AuthenticationError, 'invalid_credentials');
    });
  });

  describe('getUser / findUser', () => {
    it('says not found for an unknown user or the wrong city', async () => {
      const user = await createUser(t.db, { city: 'rome' });
      expect(await findUser(t.db.orm, { city: 'rome', id: '00000000-0000-4000-8000-000000000000' })).toBeUndefined();
      await expectError(getUser(t.db.orm, { city: 'paris', id: user.id }), NotFoundError, 'user_not_found');
    });
  });

  describe('updateProfile', () => {
    it('changes name and address, keeping city and username', async () => {
      const user = await signUp(t.db, input({ username: 'emmy.noether', city: 'amsterdam' }), TEST_CITIES);
      const updated = await updateProfile(t.db, user, { name: '  Emmy Noether ', address: ' Erlangen 5 ' });
      expect(updated).toEqual({ ...user, name: 'Emmy Noether', address: 'Erlangen 5' });
      expect(await userRow(user)).toMatchObject({ city: 'amsterdam', name: 'Emmy Noether', address: 'Erlangen 5' });
      expect((await credentialsOf(user))[0]?.username).toBe('emmy.noether');
    });

    it('leaves fields that are not given as they are', async () => {
      const user = await signUp(t.db, input(), TEST_CITIES);
      expect(await updateProfile(t.db, user, {})).toEqual(user);
      expect(await updateProfile(t.db, user, { name: 'New Name' })).toEqual({ ...user, name: 'New Name' });
    });

    it('clears the address when it is blank', async () => {
      const user = await signUp(t.db, input(), TEST_CITIES);
      expect((await updateProfile(t.db, user, { address: '  ' })).address).toBeNull();
      expect((await userRow(user))?.address).toBeNull();
      await updateProfile(t.db, user, { address: 'Back again' });
      expect((await updateProfile(t.db, user, { address: null })).address).toBeNull();
    });

    it('replaces and removes the card, storing only the masked number', async () => {
      const user = await signUp(t.db, input({ cardNumber: VISA }), TEST_CITIES);
      const replaced = await updateProfile(t.db, user, { cardNumber: MASTERCARD });
      expect(replaced.maskedCard).toBe('**** **** **** 4444');
      const row = await userRow(user);
      expect(row?.creditCard).toBe('**** **** **** 4444');
      expect(JSON.stringify(row)).not.toMatch(/5555/);
      expect((await updateProfile(t.db, user, { cardNumber: null })).maskedCard).toBeNull();
      expect((await userRow(user))?.creditCard).toBeNull();
      await updateProfile(t.db, user, { cardNumber: VISA });
      expect((await updateProfile(t.db, user, { cardNumber: '' })).maskedCard).toBeNull();
    });

    it('refuses invalid changes, reporting every field, and changes nothing', async () => {
      const user = await signUp(t.db, input(), TEST_CITIES);
      const before = await snapshot(t.db);
      const error = await expectError(
        updateProfile(t.db, user, { name: ' ', address: 'a'.repeat(201), cardNumber: BAD_LUHN }),
        ValidationError,
      );
      expect(error.fields.map((f) => f.path)).toEqual(['name', 'address', 'cardNumber']);
      // A bad card refuses the whole change, valid fields included.
      await expectError(updateProfile(t.db, user, { name: 'Valid Name', cardNumber: '1234' }), ValidationError);
      await expectError(updateProfile(t.db, user, { name: 'n'.repeat(101) }), ValidationError);
      expect(await snapshot(t.db)).toEqual(before);
    });

    it('says not found for a user that does not exist', async () => {
      await createUser(t.db);
      const before = await snapshot(t.db);
      await expectError(
        updateProfile(t.db, { city: 'boston', id: '00000000-0000-4000-8000-000000000000' }, { name: 'Ghost' }),
        NotFoundError,
        'user_not_found',
      );
      expect(await snapshot(t.db)).toEqual(before);
    });
  });

  describe('deleteAccount', () => {
    it('refuses while the user has an open ride and changes nothing', async () => {
      const owner = await createUser(t.db, { city: 'seattle' });
      const rider = await createUser(t.db, { city: 'seattle', cardNumber: VISA });
      const vehicle = await addVehicle(t.db, owner, { type: 'bike', color: 'red', location: 'Pike Place' }, TEST_CITIES);
      await startRide(t.db, rider, vehicle);
      const before = await snapshot(t.db);
      await expectError(deleteAccount(t.db, rider), ConflictError, 'ride_open');
      expect(await snapshot(t.db)).toEqual(before);
      expect((await logIn(t.db.orm, rider.username!, TEST_PASSWORD)).id).toBe(rider.id);
    });

    it('erases personal data, credentials and promo codes, retires idle vehicles and keeps rides', async () => {
      await insertPromoCode(t.db, 'WELCOME', { percent: '10%' });
      const user = await signUp(t.db, input({ city: 'boston', cardNumber: VISA }), TEST_CITIES);
      const other = await createUser(t.db, { city: 'boston' });
      const otherOwner = await createUser(t.db, { city: 'boston' });
      await addPromoCode(t.db, user, 'WELCOME');
      await addPromoCode(t.db, other, 'WELCOME');

      // The user's own history: one ended ride on someone else's vehicle.
      const foreign = await addVehicle(t.db, otherOwner, { type: 'scooter', color: 'blue', location: 'Fenway' }, TEST_CITIES);
      const ride = await startRide(t.db, user, foreign);
      await endRide(t.db, user, ride, 'Back Bay', { priceList: DEFAULT_PRICE_LIST });

      // The user's vehicles: one idle, one lost, one out on someone else's ride.
      const idle = await addVehicle(t.db, user, { type: 'bike', color: 'green', location: 'Common' }, TEST_CITIES);
      const lost = await addVehicle(t.db, user, { type: 'skateboard', color: 'black', location: 'Harbor' }, TEST_CITIES);
      await t.db.orm.update(vehicles).set({ status: 'lost' }).where(eq(vehicles.id, lost.id));
      const busy = await addVehicle(t.db, user, { type: 'scooter', color: 'red', location: 'MIT' }, TEST_CITIES);
      const othersRide = await startRide(t.db, other, busy);

      await deleteAccount(t.db, user);

      expect(await userRow(user)).toEqual({ id: user.id, city: 'boston', name: null, address: null, creditCard: null });
      expect(await credentialsOf(user)).toEqual([]);
      await expectError(logIn(t.db.orm, user.username!, TEST_PASSWORD), AuthenticationError, 'invalid_credentials');
      expect(await getUser(t.db.orm, user)).toEqual({ ...user, name: null, address: null, maskedCard: null, username: null });
      expect(await listUserPromoCodes(t.db.orm, user)).toEqual([]);
      expect(
        await t.db.orm.select().from(userPromoCodes).where(eq(userPromoCodes.userId, user.id)),
      ).toEqual([]);
      // Someone else's promo code and the code itself stay.
      expect((await listUserPromoCodes(t.db.orm, other)).map((c) => c.code)).toEqual(['WELCOME']);

      expect((await getVehicle(t.db.orm, 'boston', idle.id)).status).toBe('retired');
      expect((await getVehicle(t.db.orm, 'boston', lost.id)).status).toBe('retired');
      expect((await getVehicle(t.db.orm, 'boston', busy.id)).status).toBe('in_use');
      expect((await getVehicle(t.db.orm, 'boston', idle.id)).ownerName).toBeNull();
      expect((await getVehicle(t.db.orm, 'boston', foreign.id)).status).toBe('available');
      expect((await listOwnedVehicles(t.db.orm, user)).items.map((v) => v.id).sort()).toEqual([idle.id, lost.id, busy.id].sort());

      // The rides stay: the user's own and the one on their vehicle.
      const kept = await getRide(t.db.orm, user, ride);
      expect(kept.endAddress).toBe('Back Bay');
      expect(kept.receipt).not.toBeNull();
      expect((await listRides(t.db.orm, user)).items.map((r) => r.id)).toEqual([ride.id]);
      expect((await getRide(t.db.orm, other, othersRide)).endTime).toBeNull();
      expect(await t.db.orm.select({ id: rides.id }).from(rides)).toHaveLength(2);

      // The username is free again.
      const again = await signUp(t.db, input({ username: user.username!, city: 'rome' }), TEST_CITIES);
      expect(again.id).not.toBe(user.id);
    });

    it('closes the account to further changes, rides, vehicles and promo codes', async () => {
      await insertPromoCode(t.db, 'WELCOME', { percent: '10%' });
      const owner = await createUser(t.db, { city: 'rome' });
      const vehicle = await addVehicle(t.db, owner, { type: 'bike', color: 'red', location: 'Colosseo' }, TEST_CITIES);
      const user = await createUser(t.db, { city: 'rome' });
      await deleteAccount(t.db, user);
      const before = await snapshot(t.db);
      await expectError(updateProfile(t.db, user, { name: 'Back Again', address: 'Via Roma 1' }), NotFoundError, 'user_not_found');
      await expectError(updateProfile(t.db, user, { cardNumber: VISA }), NotFoundError, 'user_not_found');
      await expectError(startRide(t.db, user, vehicle), NotFoundError, 'user_not_found');
      await expectError(addVehicle(t.db, user, { type: 'bike', color: 'red', location: 'Trevi' }, TEST_CITIES), NotFoundError, 'user_not_found');
      await expectError(addPromoCode(t.db, user, 'WELCOME'), NotFoundError, 'user_not_found');
      expect(await snapshot(t.db)).toEqual(before);
    });

    it('never leaves a deleted account with an open ride, an active vehicle or a promo code when requests race', async () => {
      await insertPromoCode(t.db, 'WELCOME', { percent: '10%' });
      const owner = await createUser(t.db, { city: 'rome' });
      const outcomes = new Set<string>();
      for (let round = 0; round < 8; round++) {
        const user = await createUser(t.db, { city: 'rome' });
        const vehicle = await addVehicle(t.db, owner, { type: 'bike', color: 'red', location: `Dock ${round}` }, TEST_CITIES);
        const [deleted, ...others] = await Promise.allSettled([
          deleteAccount(t.db, user),
          startRide(t.db, user, vehicle),
          addVehicle(t.db, user, { type: 'scooter', color: 'blue', location: 'Trevi' }, TEST_CITIES),
          addPromoCode(t.db, user, 'WELCOME'),
        ]);
        // Every refusal is a domain error, never a raw database error or exhausted retries.
        for (const result of [deleted, ...others]) {
          if (result?.status === 'rejected') {
            expect(result.reason, String(result.reason)).toSatisfy((e) => e instanceof NotFoundError || e instanceof ConflictError);
          }
        }
        const openRides = await t.db.execute('SELECT count(*)::int AS n FROM rides WHERE rider_id = $1 AND end_time IS NULL', [user.id]);
        if (deleted?.status === 'fulfilled') {
          outcomes.add('deleted');
          expect(await userRow(user)).toMatchObject({ name: null, address: null, creditCard: null });
          expect(openRides).toEqual([{ n: 0 }]);
          expect(
            await t.db.execute("SELECT count(*)::int AS n FROM vehicles WHERE owner_id = $1 AND status <> 'retired'", [user.id]),
          ).toEqual([{ n: 0 }]);
          expect(await t.db.execute('SELECT count(*)::int AS n FROM user_promo_codes WHERE user_id = $1', [user.id])).toEqual([
            { n: 0 },
          ]);
          expect((await getVehicle(t.db.orm, 'rome', vehicle.id)).status).toBe('available');
        } else {
          outcomes.add('refused');
          expect((deleted?.reason as ConflictError).code).toBe('ride_open');
          expect(openRides).toEqual([{ n: 1 }]);
          expect((await userRow(user))?.name).not.toBeNull();
        }
      }
    });

    it('leaves other users untouched', async () => {
      const user = await createUser(t.db, { city: 'paris' });
      const other = await createUser(t.db, { city: 'paris', cardNumber: VISA });
      const otherVehicle = await addVehicle(t.db, other, { type: 'bike', color: 'red', location: 'Louvre' }, TEST_CITIES);
      await deleteAccount(t.db, user);
      expect(await getUser(t.db.orm, other)).toEqual(other);
      expect((await getVehicle(t.db.orm, 'paris', otherVehicle.id)).status).toBe('available');
      expect((await logIn(t.db.orm, other.username!, TEST_PASSWORD)).id).toBe(other.id);
    });

    it('says not found for a user that does not exist', async () => {
      await createUser(t.db);
      const before = await snapshot(t.db);
      await expectError(
        deleteAccount(t.db, { city: 'new york', id: '00000000-0000-4000-8000-000000000000' }),
        NotFoundError,
        'user_not_found',
      );
      expect(await snapshot(t.db)).toEqual(before);
    });
  });
});
