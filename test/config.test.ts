import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config.ts';

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected the configuration to be refused');
}

describe('parseConfig', () => {
  it('has defaults that need no setup: the embedded database under .movr', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      nodeEnv: 'development',
      port: 8080,
      host: '127.0.0.1',
      region: undefined,
      secretKey: undefined,
      logLevel: 'info',
      poolSize: 10,
      transactionMaxAttempts: 10,
      databaseIsDefault: true,
    });
    expect(config.homeDir).toBe(path.resolve('.movr'));
    expect(config.databaseUrl).toBe(`pglite:${path.resolve('.movr', 'data')}`);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads every setting', () => {
    const config = parseConfig({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgresql://movr@db.internal:26257/movr?sslmode=verify-full',
      PORT: '3000',
      HOST: '0.0.0.0',
      MOVR_REGION: 'europe-west1',
      SECRET_KEY: 'k'.repeat(40),
      LOG_LEVEL: 'warn',
      DATABASE_POOL_SIZE: '25',
      MOVR_TX_MAX_ATTEMPTS: '7',
      MOVR_HOME: '/var/lib/movr',
    });
    expect(config).toMatchObject({
      nodeEnv: 'production',
      databaseUrl: 'postgresql://movr@db.internal:26257/movr?sslmode=verify-full',
      databaseIsDefault: false,
      port: 3000,
      host: '0.0.0.0',
      region: 'europe-west1',
      secretKey: 'k'.repeat(40),
      logLevel: 'warn',
      poolSize: 25,
      transactionMaxAttempts: 7,
      homeDir: '/var/lib/movr',
    });
  });

  it('accepts the embedded database in a folder or in memory', () => {
    expect(parseConfig({ DATABASE_URL: 'pglite:memory' }).databaseUrl).toBe('pglite:memory');
    expect(parseConfig({ DATABASE_URL: 'pglite:/tmp/movr' }).databaseUrl).toBe('pglite:/tmp/movr');
  });

  it('treats empty values as unset', () => {
    expect(parseConfig({ PORT: '', MOVR_REGION: ' ' })).toMatchObject({ port: 8080, region: undefined });
  });

  it('names every wrong setting at once', () => {
    const problems = problemsOf({
      DATABASE_URL: 'mysql://localhost/movr',
      PORT: 'eighty',
      MOVR_REGION: 'mars-north1',
      LOG_LEVEL: 'chatty',
      DATABASE_POOL_SIZE: '0',
      NODE_ENV: 'staging',
    });
    expect(problems).toHaveLength(6);
    const text = problems.join('\n');
    for (const name of ['DATABASE_URL', 'PORT', 'MOVR_REGION', 'LOG_LEVEL', 'DATABASE_POOL_SIZE', 'NODE_ENV']) {
      expect(text).toContain(name);
    }
    expect(text).toContain('us-east1, us-west1, europe-west1');
  });

  it('requires a strong SECRET_KEY in production', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual([
      expect.stringMatching(/^SECRET_KEY is required when NODE_ENV=production/),
    ]);
    expect(problemsOf({ SECRET_KEY: 'short' })).toEqual([expect.stringMatching(/SECRET_KEY must be at least 32/)]);
  });

  it('refuses a port out of range', () => {
    expect(problemsOf({ PORT: '70000' })).toEqual(['PORT must be at most 65535']);
  });
});
