// Deterministic, seekable randomness for the data generator.
//
// Every generated row draws from its own stream, keyed by (seed, table, row index): row i of a
// table can be recomputed in O(1) without generating rows 0..i-1, and loading in batches of any
// size gives the same rows. The generator is sfc32 (Chris Doty-Humphrey's Small Fast Chaotic
// PRNG, 128-bit state). The state is built from the key words through bijective 32-bit mixers, so
// two different keys never start from the same state; a 32-bit seed per row would not do, since
// a million rows would then share seeds (birthday bound) and repeat their UUIDs.

/** A 32-bit FNV-1a hash of a string: turns a table name into a stream key. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** murmur3's fmix32 finaliser: a bijection on 32-bit integers with good avalanche. */
function fmix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hex32(value: number): string {
  return (
    (HEX[value >>> 24] as string) +
    (HEX[(value >>> 16) & 0xff] as string) +
    (HEX[(value >>> 8) & 0xff] as string) +
    (HEX[value & 0xff] as string)
  );
}

/**
 * A seekable random stream. `reset(key, index)` positions it at the start of one row's stream;
 * one instance is reused for every row, so generating a row allocates nothing here.
 */
export class RowRandom {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;
  private readonly seedLow: number;
  private readonly seedHigh: number;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`The seed must be an integer, got ${seed}`);
    this.seedLow = seed >>> 0;
    this.seedHigh = Math.floor(seed / 2 ** 32) >>> 0;
  }

  /** Starts the stream of row `index` of the table whose key is `key` (see hashString). */
  reset(key: number, index: number): this {
    this.a = fmix32(this.seedLow ^ 0x9e3779b9);
    this.b = fmix32(key ^ this.seedHigh);
    this.c = fmix32(index >>> 0);
    this.d = fmix32(Math.floor(index / 2 ** 32) ^ 0x6a09e667);
    for (let i = 0; i < 8; i++) this.next();
    return this;
  }

  /** The next 32 random bits, as an unsigned integer. */
  next(): number {
    const { a, b, c, d } = this;
    const t = (((a + b) | 0) + d) | 0;
    this.d = (d + 1) | 0;
    this.a = b ^ (b >>> 9);
    this.b = (c + (c << 3)) | 0;
    const rotated = (c << 21) | (c >>> 11);
    this.c = (rotated + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.next() / 4294967296;
  }

  /** An integer in [0, n) (n ≤ 2^32; the tiny modulo bias of float scaling is irrelevant here). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** An integer in [min, max], both included. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  /** A version-4-formatted UUID from the next 128 random bits. */
  uuid(): string {
    const w0 = this.next();
    const w1 = (this.next() & 0xffff0fff) | 0x00004000; // version 4
    const w2 = (this.next() & 0x3fffffff) | 0x80000000; // RFC 4122 variant
    const w3 = this.next();
    const h1 = hex32(w1);
    const h2 = hex32(w2);
    return `${hex32(w0)}-${h1.slice(0, 4)}-${h1.slice(4)}-${h2.slice(0, 4)}-${h2.slice(4)}${hex32(w3)}`;
  }

  /** `count` decimal digits. */
  digits(count: number): string {
    let text = '';
    for (let i = 0; i < count; i++) text += String(this.int(10));
    return text;
  }
}
