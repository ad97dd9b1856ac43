// What the one error handler answers for the failures of the database and of the server itself.
import { describe, expect, it } from 'vitest';
import { AmbiguousCommitError, DatabaseUnavailableError } from '../../src/db/errors.ts';
import { problemFor } from '../../src/web/errors.ts';
import { OverloadedError, ShuttingDownError } from '../../src/web/plugins/protection.ts';

describe('problemFor', () => {
  it('answers an unknown commit outcome with 503 outcome_unknown, saying a retry with the same Idempotency-Key is safe', () => {
    const problem = problemFor(new AmbiguousCommitError('start_ride', { cause: new Error('read ECONNRESET') }));
    expect(problem).toMatchObject({ status: 503, code: 'outcome_unknown', headers: { 'retry-after': '1' } });
    expect(problem.message).toMatch(/same Idempotency-Key is safe/);
  });

  it('answers a database that cannot be reached or does not answer with 503 database_unavailable and Retry-After', () => {
    for (const error of [
      new DatabaseUnavailableError('start_ride', { cause: new Error('x') }),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      new Error('timeout exceeded when trying to connect'),
      new Error('Connection terminated unexpectedly'),
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }),
      new Error('drizzle query failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) }),
    ]) {
      expect(problemFor(error), error.message).toMatchObject({ status: 503, code: 'database_unavailable', headers: { 'retry-after': '2' } });
    }
  });

  it('answers shedding and shutting down with 503 and Retry-After; a bug stays a 500', () => {
    expect(problemFor(new OverloadedError())).toMatchObject({ status: 503, code: 'overloaded', headers: { 'retry-after': '2' } });
    expect(problemFor(new ShuttingDownError())).toMatchObject({ status: 503, code: 'shutting_down', headers: { connection: 'close' } });
    expect(problemFor(new TypeError('x is undefined'))).toMatchObject({ status: 500, code: 'internal_error' });
  });
});
