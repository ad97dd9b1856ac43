// What every part of the web app needs, registered once on the root app as decorators (the way
// Fastify's reference app, fastify/demo, shares app-wide dependencies): the configuration, the
// database, the region map, the price list, the clause for reads that may be slightly stale, and
// the keys derived from the secret key. Routes reach them as `app.db`, `app.regions`, …; nothing
// is passed to route plugins as options.
import type { SQL } from 'drizzle-orm';
import fp from 'fastify-plugin';
import type { Config } from '../../config.ts';
import type { Database } from '../../db/connect.ts';
import { asOfSystemTime } from '../../db/follower-reads.ts';
import { tokenSigningKey } from '../../movr/api-tokens.ts';
import type { PriceLists } from '../../movr/pricing.ts';
import { RideStats } from '../../movr/ride-stats.ts';
import type { RegionMap } from '../../region-map.ts';
import { deriveSessionKey } from './sessions.ts';

export interface AppKeys {
  /** Encrypts and authenticates session cookies (@fastify/secure-session). */
  readonly session: Buffer;
  /** Signs bearer tokens (src/movr/api-tokens.ts). */
  readonly token: Buffer;
}

declare module 'fastify' {
  interface FastifyInstance {
    readonly config: Config;
    /** Every route reads and writes through this handle, by way of the domain functions. */
    readonly db: Database;
    readonly regions: RegionMap;
    /** Ride prices per currency: a city's are `priceLists[regions.currencyOf(city)]`. */
    readonly priceLists: PriceLists;
    /**
     * For reads that may be a few seconds stale (the list of active promo codes): follower reads
     * on CockroachDB when MOVR_FOLLOWER_READS=1, otherwise undefined (a plain read).
     */
    readonly staleReads: SQL | undefined;
    readonly keys: AppKeys;
    /** Rides started and ended and their revenue per city, for /metrics (src/web/metrics.ts). */
    readonly rideStats: RideStats;
  }
}

export interface ContextOptions {
  config: Config;
  db: Database;
  /** Signs and encrypts session cookies and tokens (see secret-key.ts); at least 32 characters. */
  secretKey: string;
}

export const contextPlugin = fp<ContextOptions>(
  async (app, { config, db, secretKey }) => {
    if (secretKey.length < 32) throw new Error('The secret key must be at least 32 characters long');
    app.decorate('config', config);
    app.decorate('db', db);
    app.decorate('regions', config.regionMap);
    app.decorate('priceLists', config.priceLists);
    app.decorate('staleReads', asOfSystemTime(db, config.followerReads));
    app.decorate('rideStats', new RideStats());
    app.decorate('keys', Object.freeze({ session: deriveSessionKey(secretKey), token: tokenSigningKey(secretKey) }));
  },
  { name: 'movr-context', fastify: '5.x' },
);
