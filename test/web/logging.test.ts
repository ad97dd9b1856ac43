// What MovR logs: one line per request at info, JSON (or pretty single lines in a development
// terminal); secrets and personal data redacted; no SQL parameters of failed statements.
import { Writable } from 'node:stream';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import pinoPretty from 'pino-pretty';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CENSOR, PRETTY_OPTIONS, loggerOptions, prettyLogs, redactPaths, serializeError } from '../../src/web/logging.ts';
import { quickUser } from '../api/helpers.ts';
import { buildTestApp } from '../support/app.ts';
import { testConfig } from '../support/config.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { VISA } from '../support/factories.ts';

/** A stream that keeps what is written, as text. */
function capture() {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      text += String(chunk);
      callback();
    },
  });
  return { stream, text: () => text, lines: () => text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('serializeError', () => {
  it('leaves out the parameters of a failed statement, in the message, the stack and the cause', () => {
    const cause = Object.assign(new Error('duplicate key value violates unique constraint "users_username"'), {
      code: '23505',
      detail: 'Key (username)=(ada-lovelace) already exists.',
    });
    const error = new DrizzleQueryError('insert into users (name, address) values ($1, $2)', ['Ada Lovelace', '12 Secret Street'], cause);
    const wrapped = new Error('could not sign up', { cause: error });
    const serialized = JSON.stringify(serializeError(wrapped));
    expect(serialized).not.toMatch(/Ada Lovelace|12 Secret Street|ada-lovelace/);
    expect(serialized).toContain('Failed query: insert into users (name, address) values ($1, $2)');
    expect(serialized).toContain('23505');
    expect(serialized).toContain('users_username');
  });

  it('keeps what an error says when it has no parameters', () => {
    const serialized = serializeError(new Error('relation "rides" does not exist')) as { message: string; stack: string };
    expect(serialized.message).toBe('relation "rides" does not exist');
    expect(serialized.stack).toContain('logging.test.ts');
  });
});

describe('redaction', () => {
  it('censors passwords, tokens, cookies, card numbers and addresses, three levels deep', () => {
    const out = capture();
    const log = pino(loggerOptions(testConfig({ LOG_LEVEL: 'info' }), false), out.stream);
    log.info(
      {
        password: 'hunter2-hunter2',
        body: { new_password: 'n3w-Passw0rd', credit_card: VISA, end_address: '1 Private Road' },
        req: { headers: { authorization: 'Bearer tok.abc', cookie: 'session=xyz' } },
        user: { profile: { address: '9 Home Lane' } },
        token: 'tok.def',
        city: 'paris',
      },
      'something happened',
    );
    const text = out.text();
    for (const secret of ['hunter2', 'n3w-Passw0rd', '4111', '1 Private Road', 'tok.abc', 'session=xyz', '9 Home Lane', 'tok.def']) {
      expect(text).not.toContain(secret);
    }
    const [line] = out.lines();
    expect(line).toMatchObject({ password: CENSOR, token: CENSOR, city: 'paris', body: { credit_card: CENSOR }, user: { profile: { address: CENSOR } } });
    expect(redactPaths()).toContain('*.*.password');
    expect(redactPaths()).toContain('*["set-cookie"]');
  });
});

describe('pretty logs', () => {
  it('are chosen once, for a development terminal only', () => {
    expect(prettyLogs({ nodeEnv: 'development' }, { isTTY: true })).toBe(true);
    expect(prettyLogs({ nodeEnv: 'development' }, { isTTY: false })).toBe(false);
    expect(prettyLogs({ nodeEnv: 'production' }, { isTTY: true })).toBe(false);
    expect(prettyLogs({ nodeEnv: 'test' }, { isTTY: true })).toBe(false);
    const options = loggerOptions(testConfig({ NODE_ENV: 'development' }), true);
    expect(options.transport).toEqual({ target: 'pino-pretty', options: PRETTY_OPTIONS });
    expect(loggerOptions(testConfig(), false).transport).toBeUndefined();
  });

  it('show a request as one coloured line', () => {
    const out = capture();
    const log = pino(loggerOptions(testConfig({ LOG_LEVEL: 'info' }), false), pinoPretty({ ...PRETTY_OPTIONS, sync: true, destination: out.stream }));
    log.child({ reqId: 'r-1' }).info({ method: 'GET', route: '/api/v1/vehicles', status: 200, ms: 3 }, 'GET /api/v1/vehicles 200 3 ms');
    const lines = out.text().split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('\u001b['); // colours
    // eslint-disable-next-line no-control-regex
    expect(lines[0]!.replace(/\u001b\[\d+m/g, '')).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: GET \/api\/v1\/vehicles 200 3 ms \{"reqId":"r-1"\}$/);
  });
});

describeEachDatabase('request logs', (t) => {
  let app: FastifyInstance;
  const out = capture();

  beforeAll(async () => {
    app = await buildTestApp(t.db, {
      logger: { ...loggerOptions(testConfig({ LOG_LEVEL: 'info' }), false), stream: out.stream },
      routes: async (instance) => {
        instance.get('/test/log-secrets', async (request) => {
          request.log.info({ body: { password: 'pa55word-in-a-log', card_number: VISA }, address: '5 Hidden Way' }, 'a careless log');
          return { ok: true };
        });
        instance.get('/test/failed-statement', async () => {
          await t.db.orm.execute(sql`SELECT ${'a-secret-parameter'}::int AS n`);
          return 'unreachable';
        });
      },
    });
  });
  afterAll(async () => {
    await app?.close();
  });

  const linesOf = (requestId: string) => out.lines().filter((line) => line.reqId === requestId);

  it('writes one line per request at info: method, route, status, duration and the request id', async () => {
    const response = await app.inject({ url: '/api/v1/vehicles?city=paris' });
    expect(response.statusCode).toBe(200);
    const lines = linesOf(String(response.headers['x-request-id']));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, method: 'GET', route: '/api/v1/vehicles', status: 200, ms: expect.any(Number) });
    expect(lines[0]!.msg).toMatch(/^GET \/api\/v1\/vehicles 200 \d+ ms$/);
    expect(JSON.stringify(lines[0])).not.toContain('city=paris');
  });

  it('puts a refusal’s code on that line, and never the password or the token sent', async () => {
    const password = 'Wr0ng-Password-Sent';
    const refused = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'nobody-here', password } });
    expect(refused.statusCode).toBe(401);
    const lines = linesOf(String(refused.headers['x-request-id']));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ status: 401, code: 'invalid_credentials', route: '/api/v1/auth/login' });

    const rider = await quickUser(app, t.db);
    const mine = await rider.client.get('/api/v1/me');
    expect(mine.status).toBe(200);
    expect(linesOf(String(mine.headers['x-request-id']))).toHaveLength(1);

    const unknown = await app.inject({ url: '/no/such/page?q=1' });
    expect(linesOf(String(unknown.headers['x-request-id']))).toMatchObject([{ status: 404, code: 'not_found', route: '/no/such/page' }]);

    const text = out.text();
    expect(text).not.toContain(password);
    expect(text).not.toContain(rider.token);
  });

  it('redacts what a route logs by mistake', async () => {
    const response = await app.inject({ url: '/test/log-secrets' });
    const text = linesOf(String(response.headers['x-request-id']))
      .map((line) => JSON.stringify(line))
      .join('\n');
    expect(text).toContain('a careless log');
    expect(text).not.toMatch(/pa55word-in-a-log|4111|5 Hidden Way/);
  });

  it('logs a failed statement without its parameters', async () => {
    const response = await app.inject({ url: '/test/failed-statement', headers: { accept: 'application/json' } });
    expect(response.statusCode).toBe(500);
    const lines = linesOf(String(response.headers['x-request-id']));
    const failure = lines.find((line) => line.level === 50);
    expect(failure, JSON.stringify(lines)).toBeDefined();
    expect(JSON.stringify(failure)).toContain('Failed query');
    expect(out.text()).not.toContain('a-secret-parameter');
    // The error line and the request's line: nothing else.
    expect(lines).toHaveLength(2);
  });
});
