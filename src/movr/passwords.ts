// Passwords: hashing with argon2id (OWASP's recommended parameters are @node-rs/argon2's
// defaults), bounded so that a flood of log-ins cannot take every core, and how strong a new
// password is (zxcvbn-ts with its common and English dictionaries, in a thread of its own:
// password-strength.ts).
//
// Bounded hashing: at most HASHING_CONCURRENCY hashes or verifications run at once, at most
// HASHING_QUEUE_LENGTH more wait for a turn; anything beyond is refused at once with
// HashingBusyError (503 busy with Retry-After), so a spray of log-ins costs the server a fixed
// amount of CPU and the queue never grows into seconds of latency. Pages and static files never
// hash, so they are not slowed. See docs/decisions/0016-bounded-password-hashing.md.
import { hash, verify } from '@node-rs/argon2';
import { estimateStrength } from './password-strength.ts';
import { PASSWORD_MIN_SCORE } from './rules.ts';

/**
 * Hashes or verifications running at once in this process (argon2 runs on libuv's thread pool).
 * One: a process then never spends more than one core on hashing, and keeps the event loop's
 * core for pages; with MOVR_WORKERS workers, at most that many hashes run at once.
 */
export const HASHING_CONCURRENCY = 1;
/** Hashes waiting for a turn; more are refused. About 16 × 25 ms of work: under half a second of waiting. */
export const HASHING_QUEUE_LENGTH = 16;
/** Seconds a refused log-in is told to wait. */
export const HASHING_RETRY_AFTER_SECONDS = 1;

/** Too many passwords are being hashed right now: answered 503 busy with Retry-After. */
export class HashingBusyError extends Error {
  readonly retryAfterSeconds = HASHING_RETRY_AFTER_SECONDS;

  constructor() {
    super('Too many passwords are being checked right now');
    this.name = 'HashingBusyError';
  }
}

/** A counting semaphore with a bounded queue: run(work) waits for a slot, or throws when the queue is full. */
export class BoundedSemaphore {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly concurrency: number,
    readonly queueLength: number,
    private readonly refuse: () => Error,
  ) {}

  /** Running and waiting tasks. */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.queueLength) throw this.refuse();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next in line; otherwise it is freed.
      if (next) next();
      else this.running--;
    }
  }
}

const hashing = new BoundedSemaphore(HASHING_CONCURRENCY, HASHING_QUEUE_LENGTH, () => new HashingBusyError());

export function hashPassword(password: string): Promise<string> {
  return hashing.run(() => hash(password));
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  return hashing.run(async () => {
    try {
      return await verify(passwordHash, password);
    } catch {
      return false; // a malformed stored hash never logs anyone in
    }
  });
}

// ---- strength -----------------------------------------------------------------------------------

/** What the person knows about themselves that an attacker might try: username, name, city. */
export interface PasswordContext {
  readonly username?: string | null | undefined;
  readonly name?: string | null | undefined;
  readonly city?: string | null | undefined;
}

/** The words of the context, each whole and split on spaces, dots, dashes and underscores. */
function userInputs(context: PasswordContext): string[] {
  const inputs = new Set<string>();
  for (const value of [context.username, context.name, context.city]) {
    const text = value?.trim().toLowerCase();
    if (!text) continue;
    inputs.add(text);
    inputs.add(text.replace(/[\s._-]+/g, ''));
    for (const word of text.split(/[\s._-]+/)) if (word.length >= 3) inputs.add(word);
  }
  return [...inputs];
}

/**
 * Why a password (of an acceptable length) is too easy to guess, and how to choose a better one;
 * undefined when it is strong enough (zxcvbn's score PASSWORD_MIN_SCORE or more, out of 4).
 */
export async function passwordWeakness(password: string, context: PasswordContext = {}): Promise<string | undefined> {
  // zxcvbn lowers the score of a password built on the username, but not always below the bar.
  const username = context.username?.trim().toLowerCase() ?? '';
  if (username.length >= 3 && password.toLowerCase().includes(username)) return 'Your password must not contain your username.';
  const result = await estimateStrength(password, userInputs(context));
  if (result.score >= PASSWORD_MIN_SCORE) return undefined;
  const why = result.warning ?? 'This password is easy to guess.';
  const how = result.suggestions.length > 0 ? result.suggestions.join(' ') : 'Add more words that are less common.';
  return `That password is too easy to guess. ${withStop(why)} ${withStop(how)} A few unrelated words, or a longer phrase, work well.`;
}

function withStop(sentence: string): string {
  return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
}
