// GET /promo-codes, POST /me/promo-codes, GET /me/promo-codes.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../support/app.ts';
import { createVehicle, insertPromoCode } from '../support/factories.ts';
import { snapshot } from '../support/snapshot.ts';
import { describeEachDatabase, emptyTables } from '../support/databases.ts';
import { ApiClient, cityPath, errorCode, quickUser } from './helpers.ts';

const DAY = 24 * 3600_000;

describeEachDatabase(
  'API promo codes',
  (t) => {
    let app: FastifyInstance;
    const active: string[] = [];

    beforeAll(async () => {
      await emptyTables(t.db);
      app = await buildTestApp(t.db);
      for (let i = 0; i < 12; i++) {
        const code = `ACTIVE-${String(i).padStart(2, '0')}`;
        active.push(code);
        await insertPromoCode(t.db, code, { percent: `${5 + i}%`, expirationTime: new Date(Date.now() + 30 * DAY) });
      }
      await insertPromoCode(t.db, 'FOREVER', { percent: '50%' });
      active.push('FOREVER');
      await insertPromoCode(t.db, 'EXPIRED', { expirationTime: new Date(Date.now() - DAY) });
      await insertPromoCode(t.db, 'FUTURE', { creationTime: new Date(Date.now() + DAY) });
      await insertPromoCode(t.db, 'ODD-RULES', { rules: { type: 'free_ride', value: 'yes' } });
      active.push('ODD-RULES');
      active.sort();
    });
    afterAll(async () => {
      await app?.close();
    });

    describe('GET /promo-codes', () => {
      it('active codes only, in code order, a page at a time', async () => {
        const client = new ApiClient(app);
        const seen: string[] = [];
        let url = '/api/v1/promo-codes?limit=5';
        for (let pages = 0; pages < 10; pages++) {
          const response = await client.get(url);
          expect(response.status).toBe(200);
          seen.push(...response.body.items.map((p: { code: string }) => p.code));
          if (!response.body.next_cursor) break;
          url = `/api/v1/promo-codes?limit=5&cursor=${encodeURIComponent(response.body.next_cursor)}`;
        }
        expect(seen).toEqual(active);
        const first = (await client.get('/api/v1/promo-codes?limit=1')).body.items[0];
        expect(first).toEqual({
          code: 'ACTIVE-00',
          description: 'ACTIVE-00 description',
          creation_time: '2020-01-01T00:00:00.000Z',
          expiration_time: expect.any(String),
          rules: { type: 'percent_discount', value: '5%' },
          percent_off: 5,
          amount_off_cents: null,
          per_rider_limit: null,
        });
        const odd = (await client.get('/api/v1/promo-codes?cursor=FOREVER&limit=1')).body.items[0];
        expect(odd).toMatchObject({ code: 'ODD-RULES', rules: { type: 'free_ride', value: 'yes' }, percent_off: 0 });
      });

      it('400 for a bad limit', async () => {
        expect((await new ApiClient(app).get('/api/v1/promo-codes?limit=-1')).status).toBe(400);
      });
    });

    describe('/me/promo-codes', () => {
      it('POST 201 adds a code; GET lists the caller’s codes with usage, newest first', async () => {
        const rider = await quickUser(app, t.db);
        const added = await rider.client.post('/api/v1/me/promo-codes', { code: 'ACTIVE-03' });
        expect(added.status).toBe(201);
        expect(added.body.promo_code).toMatchObject({ code: 'ACTIVE-03', percent_off: 8, usage_count: 0, expired: false, added_at: expect.any(String) });
        await new Promise((resolve) => setTimeout(resolve, 5));
        await rider.client.post('/api/v1/me/promo-codes', { code: 'FOREVER' });
        const vehicleId = await createVehicle(t.db);
        const ride = await rider.client.post('/api/v1/rides', { vehicle_city: 'new york', vehicle_id: vehicleId });
        const ended = await rider.client.post(cityPath('rides', 'new york', ride.body.ride.id, '/end'), { end_address: 'x' });
        expect(ended.body.ride.receipt.promo_code).toBe('FOREVER');
        const list = await rider.client.get('/api/v1/me/promo-codes');
        expect(list.status).toBe(200);
        expect(list.body.items.map((p: { code: string; usage_count: number }) => [p.code, p.usage_count])).toEqual([
          ['FOREVER', 1],
          ['ACTIVE-03', 0],
        ]);
        const other = await quickUser(app, t.db);
        expect((await other.client.get('/api/v1/me/promo-codes')).body.items).toEqual([]);
      });

      it('404 promo_code_not_found, 409 already added / expired / not yet active, 400 empty; nothing changes', async () => {
        const rider = await quickUser(app, t.db);
        await rider.client.post('/api/v1/me/promo-codes', { code: 'ACTIVE-01' });
        const before = await snapshot(t.db);
        const cases: [unknown, number, string][] = [
          [{ code: 'NOPE' }, 404, 'promo_code_not_found'],
          [{ code: 'ACTIVE-01' }, 409, 'promo_code_already_added'],
          [{ code: 'EXPIRED' }, 409, 'promo_code_expired'],
          [{ code: 'FUTURE' }, 409, 'promo_code_not_active'],
          [{ code: '   ' }, 400, 'validation_failed'],
          [{ code: 12 }, 400, 'validation_failed'],
          [{}, 400, 'validation_failed'],
        ];
        for (const [body, status, code] of cases) {
          const response = await rider.client.post('/api/v1/me/promo-codes', body);
          expect(response.status, JSON.stringify(body)).toBe(status);
          expect(errorCode(response), JSON.stringify(body)).toBe(code);
        }
        expect(await snapshot(t.db)).toEqual(before);
      });

      it('401 without credentials', async () => {
        const client = new ApiClient(app);
        expect((await client.get('/api/v1/me/promo-codes')).status).toBe(401);
        expect((await client.post('/api/v1/me/promo-codes', { code: 'FOREVER' })).status).toBe(401);
      });
    });
  },
  { open: { poolSize: 20 } },
);
