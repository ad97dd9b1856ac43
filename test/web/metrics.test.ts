// /metrics: off without settings; on the main port behind MOVR_METRICS_TOKEN; on
// MOVR_METRICS_PORT without one; names and labels present, and moving with real requests.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sample, parsePrometheusText, sumOf } from '../../src/prometheus-text.ts';
import { startServer } from '../../src/web/server.ts';
import { tokenMatches } from '../../src/web/metrics.ts';
import { quickUser } from '../api/helpers.ts';
import { buildTestApp } from '../support/app.ts';
import { testConfig } from '../support/config.ts';
import { createTestDatabase, describeEachDatabase } from '../support/databases.ts';
import { createVehicle } from '../support/factories.ts';

const TOKEN = 'metrics-token-0123456789';

async function scrape(app: FastifyInstance): Promise<Sample[]> {
  const response = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
  expect(response.statusCode, response.body).toBe(200);
  expect(response.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parsePrometheusText(response.body);
}

describe('tokenMatches', () => {
  it('is true for the token only, whatever the lengths', () => {
    expect(tokenMatches(TOKEN, TOKEN)).toBe(true);
    expect(tokenMatches(`${TOKEN}x`, TOKEN)).toBe(false);
    expect(tokenMatches('', TOKEN)).toBe(false);
  });
});

describeEachDatabase('metrics', (t) => {
  describe('without MOVR_METRICS_TOKEN or MOVR_METRICS_PORT', () => {
    it('has no /metrics (404) and records nothing', async () => {
      const app = await buildTestApp(t.db);
      try {
        expect(app.metrics).toBeUndefined();
        const response = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
        expect(response.statusCode).toBe(404);
      } finally {
        await app.close();
      }
    });
  });

  describe('with MOVR_METRICS_TOKEN', () => {
    let app: FastifyInstance;
    beforeAll(async () => {
      app = await buildTestApp(t.db, { env: { MOVR_METRICS_TOKEN: TOKEN } });
    });
    afterAll(async () => {
      await app?.close();
    });

    it('refuses a request without the token (401, JSON, WWW-Authenticate) and with a wrong one (403)', async () => {
      const none = await app.inject({ url: '/metrics' });
      expect(none.statusCode).toBe(401);
      expect(none.headers['www-authenticate']).toBe('Bearer realm="metrics"');
      expect(none.json()).toEqual({ error: { code: 'metrics_token_required', message: expect.stringContaining('Authorization: Bearer') } });
      const basic = await app.inject({ url: '/metrics', headers: { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` } });
      expect(basic.statusCode).toBe(401);
      const wrong = await app.inject({ url: '/metrics', headers: { authorization: 'Bearer not-the-token-at-all', accept: 'text/html' } });
      expect(wrong.statusCode).toBe(403);
      expect(wrong.json().error.code).toBe('metrics_token_invalid');
      expect(wrong.body).not.toContain('movr_');
    });

    it('has every metric family with its labels, the process metrics and the database up', async () => {
      await app.inject({ url: '/healthz' });
      const samples = await scrape(app);
      const names = new Set(samples.map((s) => s.name));
      for (const name of [
        'movr_http_request_duration_seconds_bucket',
        'movr_http_request_duration_seconds_sum',
        'movr_http_request_duration_seconds_count',
        'movr_db_up',
        'process_cpu_user_seconds_total',
        'process_resident_memory_bytes',
        'nodejs_eventloop_lag_seconds',
        'nodejs_heap_size_used_bytes',
      ]) {
        expect(names, name).toContain(name);
      }
      expect(sumOf(samples, 'movr_http_request_duration_seconds_count', { method: 'GET', route: '/healthz', status_class: '2xx' })).toBe(1);
      expect(samples.find((s) => s.name === 'movr_db_up')).toEqual({ name: 'movr_db_up', labels: { database: t.kind }, value: 1 });
      // The pool's figures exist on a server database only (the embedded one has no pool).
      const pool = ['movr_db_pool_connections', 'movr_db_pool_idle_connections', 'movr_db_pool_waiting_requests', 'movr_db_connection_errors_total'];
      for (const name of pool) expect(names.has(name), name).toBe(t.kind === 'postgres');
      if (t.kind === 'postgres') expect(sumOf(samples, 'movr_db_pool_connections')).toBeGreaterThanOrEqual(1);
    });

    it('counts requests by route pattern and status class, unmatched ones under one label', async () => {
      const before = await scrape(app);
      const id = '00000000-0000-4000-8000-000000000000';
      await app.inject({ url: `/api/v1/vehicles/new%20york/${id}` });
      await app.inject({ url: `/api/v1/vehicles/amsterdam/${id}` });
      await app.inject({ url: '/no/such/page/123' });
      const after = await scrape(app);
      const delta = (labels: Record<string, string>) =>
        sumOf(after, 'movr_http_request_duration_seconds_count', labels) - sumOf(before, 'movr_http_request_duration_seconds_count', labels);
      expect(delta({ route: '/api/v1/vehicles/:city/:id', status_class: '4xx' })).toBe(2);
      expect(delta({ route: 'unmatched', status_class: '4xx' })).toBe(1);
      expect(after.some((s) => s.labels.route?.includes('amsterdam'))).toBe(false);
    });

    it('moves with rides: started, ended and revenue per city, and commits per transaction', async () => {
      const rider = await quickUser(app, t.db, 'boston');
      const vehicleId = await createVehicle(t.db, { city: 'boston', type: 'scooter' });
      const before = await scrape(app);
      const started = await rider.client.post('/api/v1/rides', { vehicle_city: 'boston', vehicle_id: vehicleId });
      expect(started.status).toBe(201);
      const middle = await scrape(app);
      const ended = await rider.client.post(`/api/v1/rides/boston/${started.body.ride.id}/end`, { end_address: '1 Harbor Way' });
      expect(ended.status).toBe(200);
      const after = await scrape(app);
      const boston = { city: 'boston' };
      expect(sumOf(middle, 'movr_rides_started_total', boston) - sumOf(before, 'movr_rides_started_total', boston)).toBe(1);
      expect(sumOf(after, 'movr_rides_ended_total', boston) - sumOf(middle, 'movr_rides_ended_total', boston)).toBe(1);
      expect(sumOf(after, 'movr_ride_revenue_cents_total', boston) - sumOf(middle, 'movr_ride_revenue_cents_total', boston)).toBe(
        ended.body.ride.revenue_cents,
      );
      const commits = (samples: Sample[], transaction: string) => sumOf(samples, 'movr_transaction_commits_total', { transaction });
      expect(commits(middle, 'start_ride') - commits(before, 'start_ride')).toBe(1);
      expect(commits(after, 'end_ride') - commits(middle, 'end_ride')).toBe(1);
      for (const name of ['movr_transaction_retries_total', 'movr_transaction_failures_total', 'movr_transaction_ambiguous_commits_total']) {
        expect(after.find((s) => s.name === name && s.labels.transaction === 'start_ride'), name).toBeDefined();
      }
    });

    it('reports the database down when it does not answer', async () => {
      const database = await createTestDatabase(t.kind);
      const other = await buildTestApp(database.db, { env: { MOVR_METRICS_TOKEN: TOKEN } });
      try {
        await database.db.close();
        const samples = await scrape(other);
        expect(sumOf(samples, 'movr_db_up')).toBe(0);
      } finally {
        await other.close();
        await database.destroy();
      }
    });
  });

  it('counts the 40001 retries of a transaction (here, every statement of its first three attempts)', async () => {
    const database = await createTestDatabase(t.kind, { injectRetryErrors: 1 });
    const app = await buildTestApp(database.db, { env: { MOVR_METRICS_TOKEN: TOKEN } });
    try {
      const rider = await quickUser(app, database.db, 'seattle');
      const vehicleId = await createVehicle(database.db, { city: 'seattle' });
      const before = sumOf(await scrape(app), 'movr_transaction_retries_total', { transaction: 'start_ride' });
      const started = await rider.client.post('/api/v1/rides', { vehicle_city: 'seattle', vehicle_id: vehicleId });
      expect(started.status).toBe(201);
      const samples = await scrape(app);
      expect(sumOf(samples, 'movr_transaction_retries_total', { transaction: 'start_ride' }) - before).toBe(3);
      expect(sumOf(samples, 'movr_transaction_commits_total', { transaction: 'start_ride' })).toBe(1);
    } finally {
      await app.close();
      await database.destroy();
    }
  });

  it('serves MOVR_METRICS_PORT on loopback without a token, and no /metrics on the main port then', async () => {
    const database = await createTestDatabase(t.kind);
    const server = await startServer({
      config: testConfig({ DATABASE_URL: database.url, PORT: '0', MOVR_METRICS_PORT: '0' }),
      db: database.db,
      signals: [],
      logger: false,
    });
    try {
      expect(server.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      await fetch(`${server.url}/healthz`);
      const response = await fetch(server.metricsUrl!);
      expect(response.status).toBe(200);
      const samples = parsePrometheusText(await response.text());
      expect(sumOf(samples, 'movr_http_request_duration_seconds_count', { route: '/healthz' })).toBe(1);
      expect((await fetch(server.metricsUrl!.replace('/metrics', '/other'))).status).toBe(404);
      expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
    } finally {
      await server.close();
      await database.destroy();
    }
  });
});
