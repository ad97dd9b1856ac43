import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, metricsEnabled, parseConfig } from '../src/config.ts';
import { DEFAULT_REGION_MAP } from '../src/region-map.ts';

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

  describe('the region map', () => {
    const CENTRAL =
      'us-east1=new york,boston,washington dc;us-west1=san francisco,seattle,los angeles;' +
      'europe-west1=amsterdam,paris,rome;us-central1=chicago,detroit,minneapolis';

    function jsonFile(content: string): string {
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'movr-regions-')), 'regions.json');
      writeFileSync(file, content);
      return file;
    }

    it('is the nine default cities unless configured; follower reads are off', () => {
      const config = parseConfig({});
      expect(config.regionMap).toBe(DEFAULT_REGION_MAP);
      expect(config.followerReads).toBe(false);
    });

    it('is replaced by MOVR_REGIONS, and MOVR_REGION may name any of its regions', () => {
      const config = parseConfig({ MOVR_REGIONS: CENTRAL, MOVR_REGION: 'us-central1' });
      expect(config.regionMap.regionNames).toEqual(['us-east1', 'us-west1', 'europe-west1', 'us-central1']);
      expect(config.regionMap.regions[3]?.cities.map((c) => c.name)).toEqual(['chicago', 'detroit', 'minneapolis']);
      expect(config.region).toBe('us-central1');
      // Replacing, not extending: a region left out is no longer a region.
      expect(problemsOf({ MOVR_REGIONS: 'europe-west1=paris', MOVR_REGION: 'us-east1' })).toEqual([
        'MOVR_REGION must be one of europe-west1 (the regions of the region map)',
      ]);
    });

    it('is read from MOVR_REGIONS_FILE', () => {
      const file = jsonFile(JSON.stringify({ regions: { 'us-east1': ['new york'], 'us-central1': ['chicago'] } }));
      const config = parseConfig({ MOVR_REGIONS_FILE: file, MOVR_REGION: 'us-central1' });
      expect(config.regionMap.regionNames).toEqual(['us-east1', 'us-central1']);
    });

    it('names every problem of the map, with every other wrong setting, in one message', () => {
      const problems = problemsOf({
        MOVR_REGIONS: 'us-east1=boston,;us-west1=boston;us-east1=rome;US_Central=chicago;europe-west1=;=paris',
        MOVR_REGION: 'mars-north1',
        PORT: 'eighty',
      });
      expect(problems).toEqual([
        'PORT must be a whole number',
        'MOVR_REGIONS: a city name in region us-east1 is blank',
        'MOVR_REGIONS: "boston" is in two regions: us-east1 and us-west1',
        'MOVR_REGIONS: region us-east1 is listed twice',
        'MOVR_REGIONS: "US_Central" is not a valid region name: use lowercase letters, digits and dashes, starting with a letter (e.g. us-central1)',
        'MOVR_REGIONS: region europe-west1 has no cities',
        'MOVR_REGIONS: a region name is blank (its cities: paris)',
        'MOVR_REGION must be one of us-east1, us-west1, US_Central, europe-west1 (the regions of the region map)',
      ]);
      let message = '';
      try {
        parseConfig({ MOVR_REGIONS: 'us-east1=boston;us-west1=boston', PORT: 'eighty' });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain('PORT');
      expect(message).toContain('MOVR_REGIONS: "boston" is in two regions');
    });

    it('refuses a bad MOVR_REGIONS_FILE, and both settings at once', () => {
      expect(problemsOf({ MOVR_REGIONS_FILE: jsonFile('{"regions": ') })).toEqual([
        expect.stringMatching(/^MOVR_REGIONS_FILE \(.*regions\.json\) is not JSON/),
      ]);
      expect(problemsOf({ MOVR_REGIONS_FILE: '/nonexistent/regions.json' })).toEqual([
        expect.stringMatching(/^MOVR_REGIONS_FILE \(\/nonexistent\/regions\.json\) cannot be read/),
      ]);
      expect(problemsOf({ MOVR_REGIONS_FILE: jsonFile('{"regions": {"us-east1": []}}') })).toEqual([
        expect.stringMatching(/^MOVR_REGIONS_FILE \(.*\): region us-east1 has no cities$/),
      ]);
      expect(problemsOf({ MOVR_REGIONS: CENTRAL, MOVR_REGIONS_FILE: jsonFile('{}') })).toEqual([
        'MOVR_REGIONS and MOVR_REGIONS_FILE are both set: use one of them',
      ]);
    });

    it('reads MOVR_FOLLOWER_READS as a switch', () => {
      for (const on of ['1', 'true', 'yes', 'ON']) expect(parseConfig({ MOVR_FOLLOWER_READS: on }).followerReads).toBe(true);
      for (const off of ['0', 'false', 'no', 'off', '']) expect(parseConfig({ MOVR_FOLLOWER_READS: off }).followerReads).toBe(false);
      expect(problemsOf({ MOVR_FOLLOWER_READS: 'sometimes' })).toEqual(['MOVR_FOLLOWER_READS must be 1 or 0']);
    });
  });
});

describe('resilience settings', () => {
  it('have sane defaults', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      dbConnectTimeoutMs: 5000,
      dbStatementTimeoutMs: 15_000,
      injectRetryErrors: 0,
      requestTimeoutMs: 30_000,
      headersTimeoutMs: 10_000,
      keepAliveTimeoutMs: 5000,
      maxConnections: 2048,
      maxConnectionsPerClient: 256,
      maxEventLoopDelayMs: 1000,
      shutdownGraceMs: 10_000,
      housekeepingIntervalMs: 300_000,
      workerHeapMiB: 128,
    });
  });

  it('take a worker heap limit of 0 (V8’s own) or at least 64 MiB', () => {
    expect(parseConfig({ MOVR_WORKER_HEAP_MIB: '0' }).workerHeapMiB).toBe(0);
    expect(parseConfig({ MOVR_WORKER_HEAP_MIB: '256' }).workerHeapMiB).toBe(256);
    expect(() => parseConfig({ MOVR_WORKER_HEAP_MIB: '16' })).toThrow(/MOVR_WORKER_HEAP_MIB must be 0 \(V8's own limit\) or at least 64/);
  });

  it('are read from the environment; the header timeout never exceeds the request timeout', () => {
    const config = parseConfig({ MOVR_REQUEST_TIMEOUT_MS: '5000', MOVR_HEADERS_TIMEOUT_MS: '8000', MOVR_INJECT_RETRY_ERRORS: '0.2' });
    expect(config.requestTimeoutMs).toBe(5000);
    expect(config.headersTimeoutMs).toBe(5000);
    expect(config.injectRetryErrors).toBe(0.2);
  });

  it('refuse injected retry errors in production and nonsense anywhere', () => {
    expect(() => parseConfig({ NODE_ENV: 'production', SECRET_KEY: 'x'.repeat(40), MOVR_INJECT_RETRY_ERRORS: '0.2' })).toThrow(
      /MOVR_INJECT_RETRY_ERRORS is for tests and development/,
    );
    expect(() => parseConfig({ MOVR_INJECT_RETRY_ERRORS: '2' })).toThrow(/fraction between 0 and 1/);
    expect(() => parseConfig({ MOVR_REQUEST_TIMEOUT_MS: '10' })).toThrow(/MOVR_REQUEST_TIMEOUT_MS must be at least 1000/);
  });
});

describe('metrics settings', () => {
  it('are off by default, on with a token or a port; the metrics port is on loopback unless told otherwise', () => {
    expect(parseConfig({}).metrics).toEqual({ token: undefined, port: undefined, host: '127.0.0.1' });
    expect(metricsEnabled(parseConfig({}))).toBe(false);
    const config = parseConfig({ MOVR_METRICS_TOKEN: ' a-long-enough-token-1234 ', MOVR_METRICS_PORT: '9464', MOVR_METRICS_HOST: '0.0.0.0' });
    expect(config.metrics).toEqual({ token: 'a-long-enough-token-1234', port: 9464, host: '0.0.0.0' });
    expect(metricsEnabled(parseConfig({ MOVR_METRICS_PORT: '9464' }))).toBe(true);
    expect(metricsEnabled(parseConfig({ MOVR_METRICS_TOKEN: 'a-long-enough-token-1234' }))).toBe(true);
  });

  it('refuse a short or unprintable token, a bad port, and the main port', () => {
    expect(problemsOf({ MOVR_METRICS_TOKEN: 'short' })).toEqual(['MOVR_METRICS_TOKEN must be at least 16 characters long']);
    expect(problemsOf({ MOVR_METRICS_TOKEN: 'with a space in the middle' })).toEqual([
      'MOVR_METRICS_TOKEN must be printable ASCII without spaces (it travels in a header)',
    ]);
    expect(problemsOf({ MOVR_METRICS_PORT: '70000' })).toEqual(['MOVR_METRICS_PORT must be at most 65535']);
    expect(problemsOf({ PORT: '9000', MOVR_METRICS_PORT: '9000' })).toEqual(['MOVR_METRICS_PORT must differ from PORT']);
  });
});
