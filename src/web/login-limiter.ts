// The one log-in and sign-up limiter, shared by the site (POST /login, POST /signup) and the API
// (POST /api/v1/auth/login, POST /api/v1/auth/register):
//
//   - failed log-ins per username, from any address (LOGIN_FAILURES_PER_USERNAME): guessing one
//     account's password is slow whoever does it and from wherever;
//   - log-in attempts per client address, whatever the username (LOGIN_ATTEMPTS_PER_ADDRESS):
//     one address cannot spray many accounts;
//   - sign-ups per client address (SIGN_UPS_PER_ADDRESS).
//
// The counters live in Redis when MOVR_REDIS_URL is set (rate-limiter-flexible over ioredis), so
// that every MovR process and machine enforces one limit; otherwise in this process's memory, in
// a bounded table that refuses (fails closed) rather than forget a counter when it is full. While
// Redis cannot be reached, the counters fall back to that memory table: each process then limits
// on its own, which is looser by the number of processes but still a limit, and log-in keeps
// working. Redis errors are logged, never fatal. See docs/decisions/0015-one-login-limiter.md.
import { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { FastifyBaseLogger } from 'fastify';
import { LOGIN_ATTEMPTS_PER_ADDRESS, LOGIN_FAILURES_PER_USERNAME, SIGN_UPS_PER_ADDRESS } from '../movr/rules.ts';
import { AuthenticationError, DomainError } from '../movr/errors.ts';
import { HashingBusyError } from '../movr/passwords.ts';
import { TooManyRequestsError } from './errors.ts';

export interface Limit {
  readonly max: number;
  readonly windowSeconds: number;
}

/** A counter's state: how many points were counted in the current window, and when it ends. */
export interface Count {
  readonly count: number;
  readonly msLeft: number;
}

/** Where the counters live. */
export interface CounterStore {
  /** Adds one to the key's counter (a new window starts when the last one is over). */
  increment(key: string, limit: Limit): Promise<Count>;
  /** The key's counter, without counting. */
  peek(key: string, limit: Limit): Promise<Count>;
  /** Takes back one point counted by increment (in the same window). */
  giveBack(key: string, limit: Limit): Promise<Count>;
  close(): Promise<void>;
}

/** The memory table is full of live counters: refuse rather than forget one (fail closed). */
export class CountersFullError extends Error {
  constructor() {
    super('The log-in limiter is full');
    this.name = 'CountersFullError';
  }
}

/** Counters held in memory, at most `capacity` of them; expired ones make room. */
export class MemoryCounterStore implements CounterStore {
  private readonly counters = new Map<string, { count: number; resetAt: number }>();

  constructor(
    readonly capacity = 200_000,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.counters.size;
  }

  async increment(key: string, limit: Limit): Promise<Count> {
    const now = this.now();
    let counter = this.counters.get(key);
    if (!counter || counter.resetAt <= now) {
      if (!counter && this.counters.size >= this.capacity) this.sweep(now);
      if (!counter && this.counters.size >= this.capacity) throw new CountersFullError();
      counter = { count: 0, resetAt: now + limit.windowSeconds * 1000 };
      this.counters.set(key, counter);
    }
    counter.count++;
    return { count: counter.count, msLeft: counter.resetAt - now };
  }

  async peek(key: string, _limit?: Limit): Promise<Count> {
    const now = this.now();
    const counter = this.counters.get(key);
    if (!counter || counter.resetAt <= now) {
      // A full table fails closed for keys it does not hold.
      if (!counter && this.counters.size >= this.capacity) {
        this.sweep(now);
        if (this.counters.size >= this.capacity) throw new CountersFullError();
      }
      return { count: 0, msLeft: 0 };
    }
    return { count: counter.count, msLeft: counter.resetAt - now };
  }

  async giveBack(key: string): Promise<Count> {
    const now = this.now();
    const counter = this.counters.get(key);
    if (!counter || counter.resetAt <= now) return { count: 0, msLeft: 0 };
    counter.count = Math.max(0, counter.count - 1);
    return { count: counter.count, msLeft: counter.resetAt - now };
  }

  /** Drops expired counters (a full pass, only when the table is full). */
  private sweep(now: number): void {
    for (const [key, counter] of this.counters) if (counter.resetAt <= now) this.counters.delete(key);
  }

  async close(): Promise<void> {
    this.counters.clear();
  }
}

/** Counters in Redis, shared by every process that uses the same Redis and prefix. */
export class RedisCounterStore implements CounterStore {
  private readonly limiters = new Map<string, RateLimiterRedis>();

  constructor(
    readonly client: Redis,
    private readonly prefix: string,
  ) {}

  private limiter(limit: Limit): RateLimiterRedis {
    const name = `${limit.max}/${limit.windowSeconds}`;
    let limiter = this.limiters.get(name);
    if (!limiter) {
      limiter = new RateLimiterRedis({
        storeClient: this.client,
        keyPrefix: this.prefix,
        // Counted without a ceiling: the limiter compares the count with the limit itself.
        points: Number.MAX_SAFE_INTEGER,
        duration: limit.windowSeconds,
        rejectIfRedisNotReady: true,
      });
      this.limiters.set(name, limiter);
    }
    return limiter;
  }

  async increment(key: string, limit: Limit): Promise<Count> {
    return countOf(await this.limiter(limit).consume(key, 1));
  }

  async giveBack(key: string, limit: Limit): Promise<Count> {
    return countOf(await this.limiter(limit).reward(key, 1));
  }

  async peek(key: string, limit: Limit): Promise<Count> {
    const result = await this.limiter(limit).get(key);
    return result ? countOf(result) : { count: 0, msLeft: 0 };
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}

function countOf(result: RateLimiterRes): Count {
  return { count: result.consumedPoints, msLeft: result.msBeforeNext };
}

/** The limits the limiter holds to (the rules' by default; tests may pass smaller ones). */
export interface LoginLimits {
  readonly failuresPerUsername: Limit;
  readonly attemptsPerAddress: Limit;
  readonly signUpsPerAddress: Limit;
  /**
   * false: no limit per client address (attempts, sign-ups, in flight), for a load test through
   * the API from one machine (MOVR_PER_ADDRESS_LOGIN_LIMITS=0); the per-username limit stays.
   */
  readonly perAddress?: boolean;
}

export const LOGIN_LIMITS: LoginLimits = Object.freeze({
  failuresPerUsername: LOGIN_FAILURES_PER_USERNAME,
  attemptsPerAddress: LOGIN_ATTEMPTS_PER_ADDRESS,
  signUpsPerAddress: SIGN_UPS_PER_ADDRESS,
});

/** Usernames are counted as the domain compares them: trimmed, lower-cased (and cut short). */
function usernameKey(username: string): string {
  return `u:${username.trim().toLowerCase().slice(0, 200)}`;
}

/**
 * Log-ins and sign-ups one client address may have in flight in this process: beyond, 503 busy
 * at once, so that one address cannot fill the password-hashing queue (src/movr/passwords.ts)
 * and keep everyone else's log-in waiting.
 */
export const MAX_IN_FLIGHT_PER_ADDRESS = 4;

export class LoginLimiter {
  /** Log once per outage, not once per request. */
  private storeDown = false;
  /** Log-ins and sign-ups running per address (this process only). */
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly shared: CounterStore | undefined,
    private readonly local: CounterStore,
    private readonly log: FastifyBaseLogger,
    readonly limits: LoginLimits = LOGIN_LIMITS,
  ) {}

  /** Whether the counters are shared through Redis. */
  get isShared(): boolean {
    return this.shared !== undefined;
  }

  /** Runs a counter operation on the shared store, or on the local one while that is unreachable. */
  private async counted(work: (store: CounterStore) => Promise<Count>): Promise<Count> {
    if (this.shared) {
      try {
        const count = await work(this.shared);
        if (this.storeDown) {
          this.storeDown = false;
          this.log.info('log-in limiter: Redis is back, counters are shared again');
        }
        return count;
      } catch (error) {
        if (error instanceof RateLimiterRes) return countOf(error);
        if (!this.storeDown) {
          this.storeDown = true;
          this.log.warn({ err: error }, 'log-in limiter: Redis unreachable, counting in this process until it is back');
        }
      }
    }
    return work(this.local);
  }

  private static refuse(count: Count, limit: Limit): never {
    throw new TooManyRequestsError(count.msLeft > 0 ? count.msLeft : limit.windowSeconds * 1000);
  }

  /**
   * Before a password is checked: counts the attempt against the address, and refuses (429)
   * when the address or the username is over its limit.
   */
  async beforeLogIn(address: string, username: string): Promise<void> {
    const { attemptsPerAddress, failuresPerUsername } = this.limits;
    if (this.limits.perAddress !== false) {
      const byAddress = await this.counted((store) => store.increment(`a:${address}`, attemptsPerAddress));
      if (byAddress.count > attemptsPerAddress.max) LoginLimiter.refuse(byAddress, attemptsPerAddress);
    }
    const byUsername = await this.counted((store) => store.peek(usernameKey(username), failuresPerUsername));
    if (byUsername.count >= failuresPerUsername.max) LoginLimiter.refuse(byUsername, failuresPerUsername);
  }

  /** After a wrong password (or an unknown username): counts it against the username. */
  async failedLogIn(username: string): Promise<void> {
    await this.counted((store) => store.increment(usernameKey(username), this.limits.failuresPerUsername));
  }

  /**
   * A log-in attempt under the limits: `attempt` checks the password and throws
   * AuthenticationError when it is wrong, which is counted against the username.
   */
  async logIn<T>(address: string, username: string, attempt: () => Promise<T>): Promise<T> {
    await this.beforeLogIn(address, username);
    return this.oneOfFew(address, async () => {
      try {
        return await attempt();
      } catch (error) {
        if (error instanceof AuthenticationError) await this.failedLogIn(username);
        throw error;
      }
    });
  }

  /** Runs work for an address, unless it has MAX_IN_FLIGHT_PER_ADDRESS running already (503 busy). */
  private async oneOfFew<T>(address: string, work: () => Promise<T>): Promise<T> {
    if (this.limits.perAddress === false) return work();
    const running = this.inFlight.get(address) ?? 0;
    if (running >= MAX_IN_FLIGHT_PER_ADDRESS) throw new HashingBusyError();
    this.inFlight.set(address, running + 1);
    try {
      return await work();
    } finally {
      const left = (this.inFlight.get(address) ?? 1) - 1;
      if (left <= 0) this.inFlight.delete(address);
      else this.inFlight.set(address, left);
    }
  }

  /**
   * A sign-up under the per-address limit: each attempt takes one of the address's allowance
   * before it runs (so that concurrent ones cannot overshoot) and is refused (429) beyond it; a
   * form refused for its fields gives its point back. Accounts made and usernames found taken
   * count: both cost a password hash.
   */
  async signUp<T>(address: string, attempt: () => Promise<T>): Promise<T> {
    if (this.limits.perAddress === false) return attempt();
    const limit = this.limits.signUpsPerAddress;
    const key = `s:${address}`;
    const used = await this.counted((store) => store.increment(key, limit));
    if (used.count > limit.max) LoginLimiter.refuse(used, limit);
    try {
      return await this.oneOfFew(address, attempt);
    } catch (error) {
      // Refused for its fields, or for being one too many at once: no password was hashed.
      const hashed = !(error instanceof HashingBusyError) && !(error instanceof DomainError && error.kind === 'invalid');
      if (!hashed) await this.counted((store) => store.giveBack(key, limit));
      throw error;
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.shared?.close(), this.local.close()]);
  }
}

export interface LoginLimiterOptions {
  readonly redisUrl: string | undefined;
  readonly log: FastifyBaseLogger;
  /** Keys in Redis start with this (tests use their own). */
  readonly prefix?: string;
  readonly limits?: LoginLimits;
  /** How long start-up waits for Redis before going on without it (it keeps reconnecting). */
  readonly connectTimeoutMs?: number;
}

/**
 * The limiter: on Redis when a URL is given (connected, or trying to, before this returns; a
 * Redis that is down at start-up is not fatal), in memory otherwise.
 */
export async function openLoginLimiter(options: LoginLimiterOptions): Promise<LoginLimiter> {
  const local = new MemoryCounterStore();
  if (!options.redisUrl) return new LoginLimiter(undefined, local, options.log, options.limits);
  const client = new Redis(options.redisUrl, {
    lazyConnect: true,
    // Commands fail at once while disconnected, so a request never waits for Redis to return.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: options.connectTimeoutMs ?? 2000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  // Without a listener an 'error' event would crash the process; the limiter logs outages itself.
  client.on('error', (error) => options.log.debug({ err: error }, 'Redis connection error'));
  try {
    await client.connect();
  } catch (error) {
    options.log.warn({ err: error }, 'log-in limiter: Redis unreachable at start-up, counting in this process until it is reachable');
  }
  return new LoginLimiter(new RedisCounterStore(client, options.prefix ?? 'movr:limits'), local, options.log, options.limits);
}
