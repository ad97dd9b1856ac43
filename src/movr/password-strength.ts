// How strong a new password is: zxcvbn-ts with its common and English dictionaries, run in a
// worker thread that exits when it has been idle for a while.
//
// The dictionaries cost about 60 MiB of RSS once loaded (docs/security.md). Kept in every
// server process they would hold each worker above its memory budget (docs/benchmarks.md) for
// the sake of sign-ups and password changes, which are rare; in a thread of their own they are
// loaded on the first check (about half a second) and given back when the thread exits,
// STRENGTH_IDLE_MS after the last check.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** The estimator's thread exits after this long without a check. */
export const STRENGTH_IDLE_MS = 30_000;
/** A check that takes longer than this (the thread is stuck or gone) fails instead of hanging. */
const STRENGTH_TIMEOUT_MS = 15_000;

export interface StrengthEstimate {
  /** zxcvbn's score, 0 (guessed at once) to 4 (very hard to guess). */
  readonly score: number;
  readonly warning: string | null;
  readonly suggestions: readonly string[];
}

// The thread's code: plain CommonJS (the packages' own builds, by absolute path), so that it
// runs the same from the sources, the compiled build and the tests.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { ZxcvbnFactory } = require(workerData.core);
const common = require(workerData.common);
const en = require(workerData.en);
const zxcvbn = new ZxcvbnFactory({
  dictionary: { ...common.dictionary, ...en.dictionary },
  graphs: common.adjacencyGraphs,
  translations: en.translations,
});
parentPort.on('message', ({ id, password, userInputs }) => {
  try {
    const result = zxcvbn.check(password, userInputs);
    parentPort.postMessage({ id, score: result.score, warning: result.feedback.warning || null, suggestions: result.feedback.suggestions });
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.message || error) });
  }
});
`;

interface Pending {
  resolve(estimate: StrengthEstimate): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

type Answer = { id: number; error: string } | ({ id: number } & StrengthEstimate);

export class StrengthThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly idleMs: number) {}

  /** Whether the thread is running (for tests). */
  get running(): boolean {
    return this.worker !== undefined;
  }

  estimate(password: string, userInputs: readonly string[]): Promise<StrengthEstimate> {
    const worker = this.start();
    clearTimeout(this.idleTimer);
    const id = this.nextId++;
    return new Promise<StrengthEstimate>((resolve, reject) => {
      const timer = setTimeout(() => this.settle(id, new Error('the password strength check timed out')), STRENGTH_TIMEOUT_MS);
      timer.unref();
      this.pending.set(id, { resolve, reject, timer });
      worker.postMessage({ id, password, userInputs });
    });
  }

  /** Ends the thread now (idle, or at shutdown); checks in flight fail. */
  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    clearTimeout(this.idleTimer);
    for (const id of [...this.pending.keys()]) this.settle(id, new Error('the password strength check was stopped'));
    await worker?.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const require = createRequire(import.meta.url);
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        core: require.resolve('@zxcvbn-ts/core'),
        common: require.resolve('@zxcvbn-ts/language-common'),
        en: require.resolve('@zxcvbn-ts/language-en'),
      },
    });
    // Never what keeps a process (a CLI command, a test) alive.
    worker.unref();
    worker.on('message', (answer: Answer) => {
      if ('error' in answer) this.settle(answer.id, new Error(answer.error));
      else this.settle(answer.id, undefined, { score: answer.score, warning: answer.warning, suggestions: answer.suggestions });
    });
    const gone = (error: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      for (const id of [...this.pending.keys()]) this.settle(id, error);
    };
    worker.on('error', gone);
    worker.on('exit', (code) => gone(new Error(`the password strength thread exited (${code})`)));
    this.worker = worker;
    return worker;
  }

  private settle(id: number, error: Error | undefined, estimate?: StrengthEstimate): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    if (error || !estimate) pending.reject(error ?? new Error('no estimate'));
    else pending.resolve(estimate);
    if (this.pending.size === 0 && this.worker) {
      this.idleTimer = setTimeout(() => void this.stop(), this.idleMs);
      this.idleTimer.unref();
    }
  }
}

const thread = new StrengthThread(STRENGTH_IDLE_MS);

/** zxcvbn's estimate of a password, with what the person knows about themselves as user inputs. */
export function estimateStrength(password: string, userInputs: readonly string[]): Promise<StrengthEstimate> {
  return thread.estimate(password, userInputs);
}

/** Whether the estimator's thread is running now (it exits when idle). */
export function strengthThreadRunning(): boolean {
  return thread.running;
}

/** Ends the estimator's thread at once (it starts again on the next check). */
export function stopStrengthThread(): Promise<void> {
  return thread.stop();
}
