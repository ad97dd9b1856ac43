// The bench's "retries/tx MovR": MovR's transaction counts scraped from its metrics port before
// and after a run, against a real server whose transactions meet 40001s.
import { describe, expect, it } from 'vitest';
import { issueToken } from '../../../src/movr/api-tokens.ts';
import { startServer } from '../../../src/web/server.ts';
import { freePort, retriesPerTransaction, scrapeTransactionTotals, totalsBetween } from '../../../scripts/bench/movr-metrics.ts';
import { TOKEN_KEY } from '../../api/helpers.ts';
import { TEST_SECRET_KEY, testConfig } from '../../support/config.ts';
import { createTestDatabase } from '../../support/databases.ts';
import { createUserRow, createVehicle } from '../../support/factories.ts';

describe('retriesPerTransaction', () => {
  it('is retries over transactions, 0 without transactions', () => {
    expect(retriesPerTransaction([])).toBe(0);
    expect(retriesPerTransaction([{ transactions: 0, retries: 0 }])).toBe(0);
    expect(retriesPerTransaction([{ transactions: 10, retries: 1 }, { transactions: 30, retries: 9 }])).toBe(0.25);
  });
});

describe('scrapeTransactionTotals', () => {
  it('reads what a run did from the server’s metrics port: transactions ended and their 40001 retries', async () => {
    // Every statement of a transaction's first three attempts fails with 40001: three retries each.
    const database = await createTestDatabase('pglite', { injectRetryErrors: 1 });
    const port = await freePort();
    const server = await startServer({
      config: testConfig({ DATABASE_URL: database.url, PORT: '0', MOVR_METRICS_PORT: String(port), SECRET_KEY: TEST_SECRET_KEY }),
      db: database.db,
      signals: [],
      logger: false,
    });
    try {
      const metricsUrl = `http://127.0.0.1:${port}/metrics`;
      expect(server.metricsUrl).toBe(metricsUrl);
      const rider = await createUserRow(database.db, { city: 'rome' });
      const { token } = await issueToken(database.db, rider, TOKEN_KEY);
      const vehicles = [await createVehicle(database.db, { city: 'rome' }), await createVehicle(database.db, { city: 'rome' })];
      const before = await scrapeTransactionTotals(metricsUrl);
      for (const [i, vehicleId] of vehicles.entries()) {
        const started = await fetch(`${server.url}/api/v1/rides`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ vehicle_city: 'rome', vehicle_id: vehicleId }),
        });
        // The second start is refused (one open ride per rider): a transaction that failed.
        expect(started.status).toBe(i === 0 ? 201 : 409);
      }
      const run = totalsBetween(before, await scrapeTransactionTotals(metricsUrl));
      expect(run).toEqual({ transactions: 2, retries: 6 });
      expect(retriesPerTransaction([run])).toBe(3);
    } finally {
      await server.close();
      await database.destroy();
    }
  });

  it('says which server did not answer', async () => {
    const port = await freePort();
    await expect(scrapeTransactionTotals(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });
});
