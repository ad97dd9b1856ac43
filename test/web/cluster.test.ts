// movr serve on every core: worker processes share the port, a dead one is replaced, SIGTERM
// stops them all; the embedded database stays in one process.
import { readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/bench/movr-metrics.ts';
import { parsePrometheusText, sumOf } from '../../src/prometheus-text.ts';
import { poolPerWorker, workerHeapFlags } from '../../src/web/cluster.ts';
import { startMovr } from '../support/cli.ts';
import { createTestDatabase, postgresAvailable } from '../support/databases.ts';

/** The pids of a process's children that run movr (not tsx's esbuild service). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        const parent = /^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${name}/status`, 'utf8'))?.[1];
        return parent === String(pid) && readFileSync(`/proc/${name}/cmdline`, 'utf8').includes('movr.js');
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** GET on a connection of its own (so that the cluster spreads the requests over its workers). */
function getOnNewConnection(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false, headers }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('workerHeapFlags', () => {
  it('limits the old generation to the setting and the semi-spaces to a sixteenth of it, 1 to 16 MiB', () => {
    expect(workerHeapFlags(128)).toEqual(['--max-old-space-size=128', '--max-semi-space-size=8']);
    expect(workerHeapFlags(64)).toEqual(['--max-old-space-size=64', '--max-semi-space-size=4']);
    expect(workerHeapFlags(4096)).toEqual(['--max-old-space-size=4096', '--max-semi-space-size=16']);
  });
});

describe('poolPerWorker', () => {
  it('divides the pool among the workers, at least two connections each', () => {
    expect(poolPerWorker(10, 2)).toBe(5);
    expect(poolPerWorker(32, 3)).toBe(11);
    expect(poolPerWorker(3, 4)).toBe(2);
  });
});

(postgresAvailable() ? describe : describe.skip)('movr serve with worker processes [postgres]', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    database = await createTestDatabase('postgres');
  });
  afterAll(async () => {
    await database?.destroy();
  });

  it('runs MOVR_WORKERS workers on one port, replaces one that dies, and stops them all on SIGTERM', async () => {
    const movr = await startMovr({
      env: { DATABASE_URL: database.url, MOVR_WORKERS: '2', MOVR_WORKER_HEAP_MIB: '96', NODE_ENV: 'production', SECRET_KEY: 'k'.repeat(40), LOG_LEVEL: 'info' },
    });
    const primary = movr.child.pid!;
    expect(movr.output()).toContain('(2 worker processes)');
    const workers = childrenOf(primary);
    expect(workers).toHaveLength(2);
    for (const pid of workers) expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')).toEqual(expect.arrayContaining(['--max-old-space-size=96', '--max-semi-space-size=6']));
    expect((await fetch(`${movr.url}/healthz`)).status).toBe(200);

    process.kill(workers[0]!, 'SIGKILL');
    let replaced: number[] = [];
    for (let i = 0; i < 50 && replaced.length < 2; i++) {
      await sleep(200);
      replaced = childrenOf(primary).filter((pid) => pid !== workers[0]);
    }
    expect(replaced).toHaveLength(2);
    for (let i = 0; i < 100 && movr.output().split('listening on http').length < 4; i++) await sleep(100);
    expect(movr.output()).toContain('a worker died: starting another');
    expect((await fetch(`${movr.url}/readyz`)).status).toBe(200);

    const code = await movr.stop('SIGTERM');
    expect(code, movr.output()).toBe(0);
    for (const pid of replaced) expect(() => process.kill(pid, 0)).toThrow();
  }, 60_000);
});

(postgresAvailable() ? describe : describe.skip)('metrics with worker processes [postgres]', () => {
  it('one scrape, on the metrics port or the main port, sees every worker', async () => {
    const database = await createTestDatabase('postgres');
    const token = 'metrics-token-for-the-cluster-test';
    const metricsPort = await freePort();
    const movr = await startMovr({
      env: { DATABASE_URL: database.url, MOVR_WORKERS: '2', MOVR_METRICS_PORT: String(metricsPort), MOVR_METRICS_TOKEN: token },
    });
    try {
      const requests = 20;
      for (let i = 0; i < requests; i++) expect((await getOnNewConnection(`${movr.url}/healthz`)).status).toBe(200);
      const healthz = { route: '/healthz', status_class: '2xx' };
      const fromPort = await getOnNewConnection(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(fromPort.status).toBe(200);
      expect(sumOf(parsePrometheusText(fromPort.body), 'movr_http_request_duration_seconds_count', healthz)).toBe(requests);
      for (let i = 0; i < 4; i++) {
        // Whichever worker takes the scrape, it answers for both.
        const fromMain = await getOnNewConnection(`${movr.url}/metrics`, { authorization: `Bearer ${token}` });
        expect(fromMain.status).toBe(200);
        const samples = parsePrometheusText(fromMain.body);
        expect(sumOf(samples, 'movr_http_request_duration_seconds_count', healthz)).toBe(requests);
        expect(sumOf(samples, 'movr_db_up')).toBe(1);
        // Pools add up: each worker holds at least one connection.
        expect(sumOf(samples, 'movr_db_pool_connections')).toBeGreaterThanOrEqual(2);
      }
      expect((await getOnNewConnection(`${movr.url}/metrics`)).status).toBe(401);
    } finally {
      expect(await movr.stop('SIGTERM')).toBe(0);
      await database.destroy();
    }
  }, 60_000);
});

describe('movr serve on the embedded database', () => {
  it('stays one process whatever MOVR_WORKERS says', async () => {
    const database = await createTestDatabase('pglite');
    await database.db.close();
    const movr = await startMovr({ env: { DATABASE_URL: database.url, MOVR_WORKERS: '3' } });
    try {
      expect(childrenOf(movr.child.pid!).length).toBe(0);
      expect(movr.output()).not.toContain('worker processes');
    } finally {
      expect(await movr.stop('SIGTERM')).toBe(0);
    }
  }, 60_000);
});
