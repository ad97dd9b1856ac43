// Text PostgreSQL cannot store (a NUL character) typed into a form is the visitor's mistake:
// a 400 with the form's error page, never a 500, and nothing written.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildTestApp } from '../../support/app.ts';
import { TEST_PASSWORD, uniqueUsername } from '../../support/factories.ts';
import { describeEachDatabase } from '../../support/databases.ts';
import { Browser, formTokenOf } from '../helpers.ts';

describeEachDatabase('text the database cannot store', (t) => {
  let app: FastifyInstance;

  beforeAll(async () => {
    app = await buildTestApp(t.db);
  });

  afterAll(async () => {
    await app.close();
  });

  it('a NUL character in a sign-up field is a 400, and no user is created', async () => {
    const before = await t.db.execute('SELECT count(*)::int AS n FROM users');
    const browser = new Browser(app);
    const response = await browser.postForm('/signup', {
      name: 'Null\u0000Byte',
      city: 'paris',
      username: uniqueUsername(),
      password: TEST_PASSWORD,
      _csrf: await formTokenOf(browser, '/signup'),
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/text\/html/);
    expect(response.body).not.toMatch(/invalid byte sequence|0x00|stack/i);
    expect(await t.db.execute('SELECT count(*)::int AS n FROM users')).toEqual(before);
  });
});
