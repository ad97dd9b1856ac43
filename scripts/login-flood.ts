// What a log-in flood does to everyone else: a real user's log-in latency and a static CSS file's
// latency while N clients post log-ins with random usernames, and how many accounts a few
// clients can create from one address. Starts `movr serve` (on the embedded database, in
// production mode) from a MovR checkout, so the same script measures main and a branch:
//
//   npx tsx scripts/login-flood.ts                       # this checkout
//   npx tsx scripts/login-flood.ts --dir /tmp/movr-main  # another one (built, node_modules at hand)
//
// Options: --clients 64, --seconds 10, --addresses 1 (flood from 127.0.0.1) or e.g. 64 (each
// client from its own loopback address 127.0.1.x: an attacker with many machines),
// --signup-clients 16, --json out.json. Figures go to docs/security.md.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values: options } = parseArgs({
  options: {
    dir: { type: 'string', default: process.cwd() },
    clients: { type: 'string', default: '64' },
    seconds: { type: 'string', default: '10' },
    addresses: { type: 'string', default: '1' },
    'signup-clients': { type: 'string', default: '16' },
    json: { type: 'string' },
  },
});
const CLIENTS = Number(options.clients);
const SECONDS = Number(options.seconds);
const ADDRESSES = Number(options.addresses);
const SIGNUP_CLIENTS = Number(options['signup-clients']);
const PASSWORD = 'Violet-Harbour-Compass-81';

interface Server {
  child: ChildProcess;
  url: URL;
}

async function startServer(dir: string): Promise<Server> {
  const home = mkdtempSync(path.join(tmpdir(), 'movr-flood-'));
  const child = spawn(process.execPath, [path.join(dir, 'bin/movr.js'), 'serve'], {
    cwd: home,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      SECRET_KEY: 'login-flood-secret-key-0123456789abcdef',
      DATABASE_URL: 'pglite:memory',
      MOVR_HOME: home,
      PORT: '0',
      LOG_LEVEL: 'warn',
      MOVR_API_RATE_LIMIT: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 120_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /MovR is running at (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({ child, url: new URL(match[1]) });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`server exited (${code}):\n${output}`)));
  });
}

function rssMiB(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
}

interface Answer {
  status: number;
  ms: number;
}

function request(base: URL, agent: http.Agent, method: string, pathname: string, body?: unknown): Promise<Answer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const started = performance.now();
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: base.hostname,
        port: base.port,
        method,
        path: pathname,
        agent,
        headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
      },
    );
    req.on('error', () => resolve({ status: 0, ms: performance.now() - started }));
    req.end(payload);
  });
}

const agentFrom = (localAddress: string) => new http.Agent({ keepAlive: true, maxSockets: 1, localAddress });

function summary(answers: Answer[]) {
  const ms = answers.map((a) => a.ms).sort((a, b) => a - b);
  const at = (q: number) => Math.round(ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? 0);
  const statuses: Record<string, number> = {};
  for (const a of answers) statuses[a.status] = (statuses[a.status] ?? 0) + 1;
  return { n: answers.length, p50: at(0.5), p95: at(0.95), max: Math.round(ms.at(-1) ?? 0), statuses };
}

/** Runs `probe` every `everyMs` until `until` resolves. */
async function probeUntil(until: Promise<unknown>, everyMs: number, probe: () => Promise<Answer>): Promise<Answer[]> {
  let done = false;
  void until.then(() => (done = true));
  const answers: Answer[] = [];
  while (!done) {
    answers.push(await probe());
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return answers;
}

let rssAfterSignUp = 0;

async function measure(server: Server, label: string) {
  const base = server.url;
  // Real users, each logging in from an address of their own, taking turns, so that no log-in
  // limit (per address, per username) of either version is what the figures show.
  const REAL_USERS = 16;
  const realAgents = Array.from({ length: REAL_USERS }, (_, i) => agentFrom(`127.0.2.${i + 1}`));
  const cssAgent = agentFrom('127.0.4.1');
  const usernames = realAgents.map((_, i) => `real${i}x${Date.now().toString(36)}`);
  const rssStart = rssMiB(server.child.pid);
  for (const [i, username] of usernames.entries()) {
    const registered = await request(base, realAgents[i]!, 'POST', '/api/v1/auth/register', { username, password: PASSWORD, name: 'Real User', city: 'new york' });
    if (registered.status !== 201) throw new Error(`could not register a real user: ${registered.status}`);
    if (i === 0) rssAfterSignUp = rssMiB(server.child.pid);
  }
  let turn = 0;
  const realLogIn = () => {
    const i = turn++ % REAL_USERS;
    return request(base, realAgents[i]!, 'POST', '/api/v1/auth/login', { username: usernames[i], password: PASSWORD });
  };
  const css = () => request(base, cssAgent, 'GET', '/static/styles.css');

  // Quiet: no flood.
  const quietFor = new Promise((resolve) => setTimeout(resolve, 3000));
  const [quietLogIn, quietCss] = await Promise.all([probeUntil(quietFor, 500, realLogIn), probeUntil(quietFor, 100, css)]);

  // The flood.
  const stopAt = Date.now() + SECONDS * 1000;
  const flood: Answer[] = [];
  const floodDone = Promise.all(
    Array.from({ length: CLIENTS }, async (_, i) => {
      const agent = agentFrom(ADDRESSES <= 1 ? '127.0.0.1' : `127.0.1.${(i % ADDRESSES) + 1}`);
      while (Date.now() < stopAt) {
        flood.push(await request(base, agent, 'POST', '/api/v1/auth/login', { username: `spray${Math.random().toString(36).slice(2)}`, password: 'Guess-password-1234' }));
      }
      agent.destroy();
    }),
  );
  const [floodLogIn, floodCss] = await Promise.all([probeUntil(floodDone, 500, realLogIn), probeUntil(floodDone, 100, css)]);
  await floodDone;
  const rssAfterFlood = rssMiB(server.child.pid);

  // Sign-ups from one address.
  const signupStop = Date.now() + SECONDS * 1000;
  const signups: Answer[] = [];
  await Promise.all(
    Array.from({ length: SIGNUP_CLIENTS }, async () => {
      const agent = agentFrom('127.0.3.1');
      while (Date.now() < signupStop) {
        signups.push(
          await request(base, agent, 'POST', '/api/v1/auth/register', {
            username: `bulk${Math.random().toString(36).slice(2, 12)}`,
            password: PASSWORD,
            name: 'Bulk Account',
            city: 'new york',
          }),
        );
      }
      agent.destroy();
    }),
  );
  for (const agent of realAgents) agent.destroy();
  cssAgent.destroy();
  return {
    label,
    clients: CLIENTS,
    addresses: ADDRESSES,
    seconds: SECONDS,
    rssMiB: { start: rssStart, afterFirstSignUp: rssAfterSignUp, afterFlood: rssAfterFlood },
    quiet: { realLogIn: summary(quietLogIn), css: summary(quietCss) },
    flood: { realLogIn: summary(floodLogIn), css: summary(floodCss), sprayed: summary(flood) },
    signups: { clients: SIGNUP_CLIENTS, created: signups.filter((a) => a.status === 201).length, ...summary(signups) },
  };
}

const server = await startServer(path.resolve(options.dir));
try {
  const result = await measure(server, path.resolve(options.dir));
  console.log(JSON.stringify(result, null, 2));
  if (options.json) writeFileSync(options.json, JSON.stringify(result, null, 2));
} finally {
  server.child.kill('SIGTERM');
}
