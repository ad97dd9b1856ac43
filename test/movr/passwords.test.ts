// Password hashing is bounded: a few at once, a short queue, refused beyond it.
import { describe, expect, it } from 'vitest';
import {
  BoundedSemaphore,
  HASHING_CONCURRENCY,
  HASHING_QUEUE_LENGTH,
  HashingBusyError,
  hashPassword,
  verifyPassword,
} from '../../src/movr/passwords.ts';

describe('BoundedSemaphore', () => {
  it('runs at most `concurrency` tasks at once, queues `queueLength` more, and refuses the rest at once', async () => {
    const semaphore = new BoundedSemaphore(2, 3, () => new Error('full'));
    let running = 0;
    let most = 0;
    const releases: (() => void)[] = [];
    const task = () =>
      semaphore.run(async () => {
        running++;
        most = Math.max(most, running);
        await new Promise<void>((resolve) => releases.push(resolve));
        running--;
        return 'done';
      });
    const accepted = Array.from({ length: 5 }, task);
    await expect(task()).rejects.toThrow('full');
    expect(semaphore.load).toEqual({ running: 2, waiting: 3 });
    while (releases.length > 0 || semaphore.load.running > 0) {
      releases.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await Promise.all(accepted)).toEqual(Array(5).fill('done'));
    expect(most).toBe(2);
    expect(semaphore.load).toEqual({ running: 0, waiting: 0 });
  });

  it('frees the slot of a task that throws', async () => {
    const semaphore = new BoundedSemaphore(1, 0, () => new Error('full'));
    await expect(semaphore.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await semaphore.run(async () => 1)).toBe(1);
  });
});

describe('password hashing', () => {
  it(`hashes ${HASHING_CONCURRENCY} at a time with ${HASHING_QUEUE_LENGTH} waiting; a burst beyond is refused with HashingBusyError`, async () => {
    const hash = await hashPassword('Tr0mbone-Lantern-42');
    const burst = await Promise.allSettled(
      Array.from({ length: HASHING_CONCURRENCY + HASHING_QUEUE_LENGTH + 10 }, () => verifyPassword(hash, 'wrong-password-here')),
    );
    const refused = burst.filter((result) => result.status === 'rejected');
    expect(refused).toHaveLength(10);
    for (const result of refused) expect((result as PromiseRejectedResult).reason).toBeInstanceOf(HashingBusyError);
    expect(burst.filter((result) => result.status === 'fulfilled' && result.value === false)).toHaveLength(HASHING_CONCURRENCY + HASHING_QUEUE_LENGTH);
    expect(await verifyPassword(hash, 'Tr0mbone-Lantern-42')).toBe(true);
  });
});
