// The strength estimator runs in a thread of its own, started by a check and ended when idle.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { StrengthThread } from '../../src/movr/password-strength.ts';

describe('the password strength thread', () => {
  const threads: StrengthThread[] = [];
  const newThread = (idleMs: number) => {
    const thread = new StrengthThread(idleMs);
    threads.push(thread);
    return thread;
  };
  afterEach(async () => {
    await Promise.all(threads.splice(0).map((thread) => thread.stop()));
  });

  it('starts on the first check, scores with the dictionaries and the user inputs, and exits when idle', { timeout: 30_000 }, async () => {
    const thread = newThread(300);
    expect(thread.running).toBe(false);
    const weak = await thread.estimate('passwordpassword', []);
    expect(thread.running).toBe(true);
    expect(weak.score).toBeLessThan(3);
    expect(weak.warning).toMatch(/\w/);
    const strong = await thread.estimate('correct-plinth-marmoset-1987', []);
    expect(strong.score).toBeGreaterThanOrEqual(3);
    // The same string is weak for the person whose name it is built from.
    const named = await thread.estimate('marmosetplinth', ['marmoset', 'plinth']);
    expect(named.score).toBeLessThan((await thread.estimate('marmosetplinth', [])).score);
    await sleep(1000);
    expect(thread.running).toBe(false);
    // And starts again on the next check.
    expect((await thread.estimate('letmeinletmein', [])).score).toBeLessThan(3);
    expect(thread.running).toBe(true);
  });

  it('answers checks made at once, each its own, and a check after stop() starts a new thread', { timeout: 30_000 }, async () => {
    const thread = newThread(10_000);
    const passwords = ['abcdefghijk', 'iloveyou1234', 'Summer2027!', 'vivid-orchard-tumble-88'];
    const scores = await Promise.all(passwords.map((p) => thread.estimate(p, []).then((e) => e.score)));
    expect(scores.slice(0, 3).every((score) => score < 3)).toBe(true);
    expect(scores[3]).toBeGreaterThanOrEqual(3);
    await thread.stop();
    expect(thread.running).toBe(false);
    expect((await thread.estimate('newyork2026', [])).score).toBeLessThan(3);
  });
});
