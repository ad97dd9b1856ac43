// Counts per transaction name, so contention can be reported (workload summaries, logs).

export interface TransactionCounts {
  commits: number;
  /** Attempts that hit a serialization conflict (SQLSTATE 40001) and were run again. */
  retries: number;
  /** Attempts whose connection broke before COMMIT was sent, run again on another connection. */
  reconnects: number;
  /** Transactions that ended in an error, retries exhausted included. */
  failures: number;
  /** Of the failures: commits whose outcome is unknown (AmbiguousCommitError). */
  ambiguous: number;
}

export class TransactionStats {
  private readonly counts = new Map<string, TransactionCounts>();

  private entry(name: string): TransactionCounts {
    let counts = this.counts.get(name);
    if (!counts) {
      counts = { commits: 0, retries: 0, reconnects: 0, failures: 0, ambiguous: 0 };
      this.counts.set(name, counts);
    }
    return counts;
  }

  recordCommit(name: string): void {
    this.entry(name).commits++;
  }

  recordRetry(name: string): void {
    this.entry(name).retries++;
  }

  recordReconnect(name: string): void {
    this.entry(name).reconnects++;
  }

  recordFailure(name: string): void {
    this.entry(name).failures++;
  }

  recordAmbiguous(name: string): void {
    this.entry(name).ambiguous++;
  }

  get(name: string): TransactionCounts {
    return { ...this.entry(name) };
  }

  totalRetries(): number {
    let total = 0;
    for (const counts of this.counts.values()) total += counts.retries;
    return total;
  }

  snapshot(): Record<string, TransactionCounts> {
    return Object.fromEntries([...this.counts].map(([name, counts]) => [name, { ...counts }]));
  }
}
