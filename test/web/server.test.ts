// The real server in a child process: it listens, and on SIGTERM finishes in-flight requests,
// refuses new connections and exits 0; a second signal forces exit 1.
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer } from '../../src/web/server.ts';
import { testConfig, testHome } from '../support/config.ts';
import { createTestDatabase } from '../support/databases.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/serve.ts', import.meta.url));

interface Child {
  process: ChildProcess;
  output: string[];
  url: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitFor(marker: string): Promise<void>;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Starts test/web/fixtures/serve.ts on a fresh copy of the migrated PGlite database. */
async function startChild(slowMs: number, env: Record<string, string> = {}): Promise<Child> {
  const database = await createTestDatabase('pglite');
  // PGlite directories are single-process: let the child have it.
  await database.db.close();
  const dataDir = database.url.slice('pglite:'.length);
  const home = testHome();
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));

  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    cwd: ROOT,
    env: {
      ...process.env,
      FIXTURE_DATABASE_URL: database.url,
      FIXTURE_HOME: home,
      FIXTURE_SLOW_MS: String(slowMs),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });

  const output: string[] = [];
  const waiters: { marker: string; resolve: () => void }[] = [];
  let buffered = '';
  const onData = (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      output.push(line);
      for (const waiter of waiters.filter((w) => line.includes(w.marker))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);

  const waitFor = (marker: string) =>
    new Promise<void>((resolve, reject) => {
      if (output.some((line) => line.includes(marker))) return resolve();
      waiters.push({ marker, resolve });
      void exited.then(({ code }) =>
        reject(new Error(`server exited (${code}) before "${marker}":\n${output.join('\n')}`)),
      );
    });

  await waitFor('LISTENING ');
  const url = output.find((line) => line.startsWith('LISTENING '))?.slice('LISTENING '.length) ?? '';
  return { process: child, output, url, exited, waitFor };
}

/** A GET on its own connection (no keep-alive agent), resolving with status and body. */
function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

/** Resolves with the error code of a TCP connection attempt, or 'connected'. */
function tryConnect(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

async function waitUntilRefused(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await tryConnect(url)) === 'ECONNREFUSED') return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return false;
}

describe('startServer (child process)', () => {
  it('serves, then on SIGTERM finishes the in-flight request, refuses new connections and exits 0', async () => {
    const child = await startChild(2000);
    expect(child.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const health = await get(`${child.url}/healthz`);
    expect(health).toEqual({ status: 200, body: '{"status":"ok"}' });

    let slowDone = false;
    const slow = get(`${child.url}/slow`).finally(() => {
      slowDone = true;
    });
    await child.waitFor('SLOW_STARTED');
    child.process.kill('SIGTERM');

    // While the slow request is still running, the listening socket is already closed.
    expect(await waitUntilRefused(child.url, 1500)).toBe(true);
    expect(slowDone).toBe(false);

    expect(await slow).toEqual({ status: 200, body: '{"done":true}' });
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(await tryConnect(child.url)).toBe('ECONNREFUSED');
    expect(child.output.join('\n')).toContain('"msg":"shut down cleanly"');
  }, 60_000);

  it('on SIGTERM, a request still running when the grace period ends is logged and cut, and the process exits 0', async () => {
    const child = await startChild(30_000, { MOVR_SHUTDOWN_GRACE_MS: '1000' });
    const slow = get(`${child.url}/slow`).catch((error: Error) => error);
    await child.waitFor('SLOW_STARTED');
    const signalled = Date.now();
    child.process.kill('SIGTERM');
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(10_000);
    expect(await slow).toBeInstanceOf(Error);
    const cut = child.output.find((line) => line.includes('request cut'));
    expect(cut, child.output.join('\n')).toContain('"url":"/slow"');
    expect(child.output.join('\n')).toContain('"msg":"shut down cleanly"');
  }, 60_000);

  it('a second signal during shutdown exits 1 at once', async () => {
    const child = await startChild(20_000);
    const slow = get(`${child.url}/slow`).catch((error: Error) => error);
    await child.waitFor('SLOW_STARTED');
    const signalled = Date.now();
    child.process.kill('SIGTERM');
    await child.waitFor('shutting down');
    await new Promise((resolve) => setTimeout(resolve, 200));
    child.process.kill('SIGINT');
    expect(await child.exited).toEqual({ code: 1, signal: null });
    expect(Date.now() - signalled).toBeLessThan(5000);
    expect(await slow).toBeInstanceOf(Error); // the in-flight request was cut off
  }, 60_000);
});

describe('startServer (in process)', () => {
  it('releases the database when it cannot listen', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const port = (blocker.address() as net.AddressInfo).port;
    const { db, url } = await createTestDatabase('pglite');
    cleanups.push(() => rmSync(url.slice('pglite:'.length), { recursive: true, force: true }));
    const config = testConfig({ HOST: '127.0.0.1', PORT: String(port) });
    await expect(startServer({ config, db, logger: false })).rejects.toThrow(/EADDRINUSE|address already in use/);
    await expect(db.execute('SELECT 1')).rejects.toThrow();
  });
});
