// The domain functions added for the load generator: users without credentials (createUser),
// creating promo codes (createPromoCode) and the prepared city read (prepareCityVehiclesRead).
import { beforeEach, expect, it } from 'vitest';
import { ConflictError, ValidationError } from '../../src/movr/errors.ts';
import { DEFAULT_PRICE_LIST } from '../../src/movr/pricing.ts';
import { addPromoCode, createPromoCode, listActivePromoCodes } from '../../src/movr/promo-codes.ts';
import { endRide, startRide } from '../../src/movr/rides.ts';
import { createUser, findUser } from '../../src/movr/users.ts';
import { CITY_VEHICLES_LIMIT, addVehicle, prepareCityVehiclesRead } from '../../src/movr/vehicles.ts';
import { describeEachDatabase, emptyTables } from '../support/databases.ts';
import { TEST_CITIES } from '../support/factories.ts';

const NOW = new Date('2025-06-01T12:00:00.000Z');
const DAY = 24 * 60 * 60 * 1000;

describeEachDatabase('domain functions of the load generator', (t) => {
  beforeEach(async () => {
    await emptyTables(t.db);
  });

  it('createUser makes a user without log-in credentials who can own vehicles and ride', async () => {
    const rider = await createUser(t.db, { name: '  Ada Rider ', city: 'paris', address: '1 Rue de Rivoli' }, TEST_CITIES);
    expect(rider).toMatchObject({ city: 'paris', name: 'Ada Rider', address: '1 Rue de Rivoli', maskedCard: null, username: null });
    expect(await findUser(t.db.orm, rider)).toEqual(rider);
    const credentials = await t.db.execute('SELECT count(*)::int AS n FROM user_credentials');
    expect(credentials[0]?.n).toBe(0);

    const vehicle = await addVehicle(t.db, rider, { type: 'bike', color: 'red', location: '2 Rue Cler' }, TEST_CITIES);
    const ride = await startRide(t.db, rider, vehicle);
    const ended = await endRide(t.db, rider, ride, '3 Rue Cler', { priceList: DEFAULT_PRICE_LIST });
    expect(ended.revenueCents).toBeGreaterThan(0);
  });

  it('createUser checks the name, city and card like sign-up does', async () => {
    await expect(createUser(t.db, { name: ' ', city: 'paris' }, TEST_CITIES)).rejects.toBeInstanceOf(ValidationError);
    await expect(createUser(t.db, { name: 'Bo', city: 'atlantis' }, TEST_CITIES)).rejects.toThrow(/cities MovR serves/);
    await expect(createUser(t.db, { name: 'Bo', city: 'rome', cardNumber: '1234' }, TEST_CITIES)).rejects.toThrow(/digits/);
    const withCard = await createUser(t.db, { name: 'Bo', city: 'rome', cardNumber: '4111 1111 1111 1111' }, TEST_CITIES);
    expect(withCard.maskedCard).toBe('**** **** **** 1111');
  });

  it('createPromoCode creates an active percent discount that riders can add', async () => {
    const promo = await createPromoCode(
      t.db,
      { code: 'spring_sale_1', description: 'Spring', percentOff: 15, expiresAt: new Date(NOW.getTime() + 7 * DAY) },
      { now: NOW },
    );
    expect(promo).toMatchObject({ code: 'spring_sale_1', percentOff: 15, rules: { type: 'percent_discount', value: '15%' } });
    expect(promo.creationTime).toEqual(NOW);
    const active = await listActivePromoCodes(t.db.orm, { now: new Date(NOW.getTime() + DAY) });
    expect(active.items.map((p) => p.code)).toEqual(['spring_sale_1']);
    const rider = await createUser(t.db, { name: 'Cy', city: 'rome' }, TEST_CITIES);
    const added = await addPromoCode(t.db, rider, 'spring_sale_1', { now: new Date(NOW.getTime() + DAY) });
    expect(added.usageCount).toBe(0);

    await expect(createPromoCode(t.db, { code: 'spring_sale_1', percentOff: 5 })).rejects.toMatchObject({
      code: 'promo_code_exists',
    });
    await expect(createPromoCode(t.db, { code: 'spring_sale_1', percentOff: 5 })).rejects.toBeInstanceOf(ConflictError);
  });

  it('createPromoCode refuses bad codes, discounts and validity', async () => {
    for (const input of [
      { code: '', percentOff: 10 },
      { code: 'has space', percentOff: 10 },
      { code: 'x'.repeat(101), percentOff: 10 },
      { code: 'ok', percentOff: 0 },
      { code: 'ok', percentOff: 101 },
      { code: 'ok', percentOff: 10, expiresAt: NOW, startsAt: NOW },
    ]) {
      await expect(createPromoCode(t.db, input, { now: NOW }), JSON.stringify(input)).rejects.toBeInstanceOf(ValidationError);
    }
    expect((await t.db.execute('SELECT count(*)::int AS n FROM promo_codes'))[0]?.n).toBe(0);
  });

  it('prepareCityVehiclesRead counts up to the limit of a city’s vehicles, and shows its statement', async () => {
    const owner = await createUser(t.db, { name: 'Owner', city: 'boston' }, TEST_CITIES);
    for (let i = 0; i < 3; i++) await addVehicle(t.db, owner, { type: 'scooter', color: 'blue', location: `${i} Main St` }, TEST_CITIES);
    const read = prepareCityVehiclesRead(t.db.orm);
    expect(await read('boston')).toBe(3);
    expect(await read('paris')).toBe(0);
    expect(await read('boston')).toBe(3); // the prepared statement runs again
    expect(read.sql).toMatch(/^select "city", "id" from "vehicles" where "vehicles"\."city" = \$1 limit (\d+)$/);
    expect(read.sql).toContain(`limit ${CITY_VEHICLES_LIMIT}`);
  });
});
