// `movr serve` in a child process, as production runs it, and the memory of its processes.
import { type ChildProcess, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { freePort } from './movr-metrics.ts';
import { spawnTracked, stop } from './processes.ts';

export interface ServerOptions {
  root: string;
  cwd: string;
  databaseUrl: string;
  secretKey: string;
  poolSize: number;
  workers: string | undefined;
  /** node's own options for the server (a profiler, say); its workers inherit them. */
  nodeArgs?: string[] | undefined;
}

export interface MovrServer {
  child: ChildProcess;
  url: string;
  /** The server's metrics (MOVR_METRICS_PORT on loopback), every worker's added up. */
  metricsUrl: string;
  /**
   * What the server logged (LOG_LEVEL=warn: warnings and errors) since the last call, counted by
   * kind: a JSON log line by its status, code and reason (or message), any other line as it is.
   */
  takeLogged(): Map<string, number>;
  stop(): Promise<void>;
}

function kindOf(line: string): string {
  try {
    const entry = JSON.parse(line) as { status?: unknown; code?: unknown; reason?: unknown; msg?: unknown; err?: { message?: unknown } };
    const parts = [entry.status, entry.code, entry.reason ?? entry.msg ?? entry.err?.message].filter((p) => p !== undefined && p !== null);
    return parts.map(String).join(' ') || line.slice(0, 200);
  } catch {
    return line.length > 200 ? `${line.slice(0, 200)}…` : line;
  }
}

/**
 * Builds dist/ (bin/build.js), so that the server measured is the compiled one production runs
 * (bin/movr.js runs the sources through tsx when they are newer than the build).
 */
export function buildMovr(root: string): void {
  const built = spawnSync(process.execPath, [path.join(root, 'bin', 'build.js')], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (built.status !== 0) throw new Error('npm run build failed: the bench measures the compiled server');
}

export async function startMovr(options: ServerOptions): Promise<MovrServer> {
  const metricsPort = await freePort();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    SECRET_KEY: options.secretKey,
    DATABASE_URL: options.databaseUrl,
    DATABASE_POOL_SIZE: String(options.poolSize),
    LOG_LEVEL: 'warn',
    MOVR_API_RATE_LIMIT: '0',
    MOVR_HOME: path.join(options.cwd, '.movr'),
    PORT: '0',
    HOST: '127.0.0.1',
    MOVR_METRICS_PORT: String(metricsPort),
    ...(options.workers === undefined ? {} : { MOVR_WORKERS: options.workers }),
  };
  const child = spawnTracked(process.execPath, [...(options.nodeArgs ?? []), path.join(options.root, 'bin', 'movr.js'), 'serve'], {
    cwd: options.cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let logged = new Map<string, number>();
  let output = '';
  let partial = '';
  const keep = (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim() || /MovR is running at/.test(line)) continue;
      const kind = kindOf(line);
      logged.set(kind, (logged.get(kind) ?? 0) + 1);
    }
  };
  const url = await new Promise<string>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`movr serve exited (${code}) before it listened:\n${output}`));
    child.once('exit', onExit);
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      keep(chunk);
      const match = /MovR is running at (\S+)/.exec(output);
      if (match?.[1]) {
        child.off('exit', onExit);
        output = '';
        resolve(match[1]);
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      keep(chunk);
    });
  });
  return {
    child,
    url,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    takeLogged() {
      const taken = logged;
      logged = new Map();
      return taken;
    },
    stop: () => stop(child, 15_000),
  };
}

/** A process and its descendants, found through /proc (ppid of every process). */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // gone meanwhile
    }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}

function statusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

export interface MemoryPeak {
  /** The highest VmRSS of any one of the server's processes, sampled while measuring (the goal is per process). */
  rssMiB: number;
  /** The highest sum of VmRSS over all of them. */
  totalMiB: number;
  /** The highest VmHWM (each process's own peak RSS) among them. */
  hwmMiB: number;
  processes: number;
}

/** Samples the RSS of the server's process tree every `intervalMs` between start() and stop(). */
export class MemorySampler {
  private timer: NodeJS.Timeout | undefined;
  private peak: MemoryPeak = { rssMiB: 0, totalMiB: 0, hwmMiB: 0, processes: 0 };

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 250,
  ) {}

  private sample(): void {
    const tree = processTree(this.pid);
    let rss = 0;
    let total = 0;
    let hwm = 0;
    for (const pid of tree) {
      const own = statusKiB(pid, 'VmRSS');
      rss = Math.max(rss, own);
      total += own;
      hwm = Math.max(hwm, statusKiB(pid, 'VmHWM'));
    }
    this.peak = {
      rssMiB: Math.max(this.peak.rssMiB, rss / 1024),
      totalMiB: Math.max(this.peak.totalMiB, total / 1024),
      hwmMiB: Math.max(this.peak.hwmMiB, hwm / 1024),
      processes: Math.max(this.peak.processes, tree.length),
    };
  }

  start(): void {
    this.sample();
    this.timer ??= setInterval(() => this.sample(), this.intervalMs);
  }

  pause(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
  }

  /** The peak since the last take(), and a fresh start. */
  take(): MemoryPeak {
    const peak = this.peak;
    this.peak = { rssMiB: 0, totalMiB: 0, hwmMiB: 0, processes: 0 };
    return peak;
  }
}
