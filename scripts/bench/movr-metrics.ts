// MovR's own transaction counts, read from its /metrics (MOVR_METRICS_PORT) before and after a
// run: the bench's "retries/tx MovR" column. They are the counts the server keeps in every
// worker (db/transaction-stats.ts), added up by the primary.
import { createServer } from 'node:net';
import { parsePrometheusText, sumOf } from '../../src/prometheus-text.ts';

export interface TransactionTotals {
  /** Transactions that ended: committed or failed. */
  transactions: number;
  /** Attempts run again after a serialization conflict (SQLSTATE 40001). */
  retries: number;
}

/** The totals over every transaction name, from one scrape of `metricsUrl`. */
export async function scrapeTransactionTotals(metricsUrl: string): Promise<TransactionTotals> {
  const response = await fetch(metricsUrl, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`${metricsUrl}: ${response.status} ${response.statusText}`);
  const samples = parsePrometheusText(await response.text());
  return {
    transactions: sumOf(samples, 'movr_transaction_commits_total') + sumOf(samples, 'movr_transaction_failures_total'),
    retries: sumOf(samples, 'movr_transaction_retries_total'),
  };
}

/** What happened between two scrapes. */
export function totalsBetween(before: TransactionTotals, after: TransactionTotals): TransactionTotals {
  return { transactions: after.transactions - before.transactions, retries: after.retries - before.retries };
}

/** Retries per transaction over runs; 0 when no transaction ran (the read rows). */
export function retriesPerTransaction(runs: readonly TransactionTotals[]): number {
  const transactions = runs.reduce((n, r) => n + r.transactions, 0);
  const retries = runs.reduce((n, r) => n + r.retries, 0);
  return transactions > 0 ? retries / transactions : 0;
}

/** A TCP port free on loopback right now (for the server's metrics port). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no free port');
  return address.port;
}
