// pgbench, run and read: tps from its report, latencies from its per-transaction log (-l), and
// the 40001 retries it counts (--max-tries lets it retry serialization failures as MovR does).
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { percentile } from './stats.ts';
import { run } from './processes.ts';

export interface PgbenchOptions {
  url: string;
  /** Script files; pgbench picks one at random (equal weights) for each transaction. */
  files: readonly string[];
  defines: ReadonlyMap<string, string>;
  clients: number;
  threads: number;
  seconds: number;
  /** As MOVR_TX_MAX_ATTEMPTS: tries of a transaction that fails with 40001 or a deadlock. */
  maxTries: number;
  /** Where the per-transaction logs go (emptied afterwards). */
  logDir: string;
  /** Every pair of consecutive successful transactions of a client is one cycle (the loop row). */
  cycles?: boolean;
}

export interface PgbenchResult {
  /** Transactions (or cycles) per second, excluding connection time, as pgbench reports it. */
  rate: number;
  transactions: number;
  failed: number;
  /** Serialization and deadlock retries in all. */
  retries: number;
  p50Ms: number;
  p99Ms: number;
  /** Clients pgbench aborted (an error other than a serialization failure). */
  aborted: number;
  /** The highest client-local transaction count (how deep into the bench pairs a client got). */
  maxPerClient: number;
}

const number = (output: string, pattern: RegExp): number | undefined => {
  const match = pattern.exec(output)?.[1];
  return match === undefined ? undefined : Number(match);
};

export async function runPgbench(options: PgbenchOptions): Promise<PgbenchResult> {
  const prefix = path.join(options.logDir, 'pgbench');
  const args = [
    '-n',
    '-M', 'prepared',
    '-c', String(options.clients),
    '-j', String(options.threads),
    '-T', String(options.seconds),
    '--max-tries', String(options.maxTries),
    '-l', '--log-prefix', prefix,
    ...[...options.defines].flatMap(([name, value]) => ['-D', `${name}=${value}`]),
    ...options.files.flatMap((file) => ['-f', file]),
    options.url,
  ];
  const result = await run('pgbench', args);
  const output = `${result.stdout}\n${result.stderr}`;
  const tps = number(result.stdout, /tps = ([\d.]+) \(without initial connection time\)/);
  const aborted = (output.match(/client \d+ aborted/g) ?? []).length;
  if (tps === undefined) throw new Error(`pgbench failed (exit ${result.code}):\n${output.trim()}`);

  // client_id transaction_no time script_no time_epoch time_us [retries]; time is µs or "failed".
  const perClient = new Map<number, { latencyUs: number; endUs: number }[]>();
  let failedInLog = 0;
  const logs = readdirSync(options.logDir).filter((name) => name.startsWith('pgbench.'));
  for (const name of logs) {
    const file = path.join(options.logDir, name);
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line) continue;
      const fields = line.split(' ');
      const client = Number(fields[0]);
      const time = fields[2]!;
      if (!/^\d+$/.test(time)) {
        failedInLog++;
        continue;
      }
      const endUs = Number(fields[4]) * 1e6 + Number(fields[5]);
      let list = perClient.get(client);
      if (!list) perClient.set(client, (list = []));
      list.push({ latencyUs: Number(time), endUs });
    }
    rmSync(file, { force: true });
  }
  const latencies: number[] = [];
  let succeeded = 0;
  let maxPerClient = 0;
  for (const list of perClient.values()) {
    succeeded += list.length;
    maxPerClient = Math.max(maxPerClient, list.length);
    if (options.cycles) {
      // Transactions alternate start, end (a failed one is run again, not skipped): pair them.
      for (let i = 0; i + 1 < list.length; i += 2) {
        const start = list[i]!;
        const end = list[i + 1]!;
        latencies.push(end.endUs - (start.endUs - start.latencyUs));
      }
    } else {
      for (const entry of list) latencies.push(entry.latencyUs);
    }
  }
  latencies.sort((a, b) => a - b);
  const transactions = number(result.stdout, /number of transactions actually processed: (\d+)/) ?? succeeded;
  const failed = number(result.stdout, /number of failed transactions: (\d+)/) ?? failedInLog;
  const retries = number(result.stdout, /total number of retries: (\d+)/) ?? 0;
  // Cycles per second: pgbench's rate scaled by the share of its transactions that made whole cycles.
  const rate = options.cycles ? (succeeded > 0 ? tps * ((latencies.length * 2) / succeeded) / 2 : 0) : tps;
  return {
    rate,
    transactions,
    failed,
    retries,
    p50Ms: percentile(latencies, 50) / 1000,
    p99Ms: percentile(latencies, 99) / 1000,
    aborted,
    maxPerClient,
  };
}
