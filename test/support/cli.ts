// Runs the real `movr` command in a child process, in a scratch folder, with a clean environment;
// or, where start-up time matters more than the process, its runCli in this process.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliContext } from '../../src/cli/common.ts';
import { runCli } from '../../src/cli/index.ts';
import type { Config } from '../../src/config.ts';
import type { Database } from '../../src/db/connect.ts';

export const MOVR_BIN = fileURLToPath(new URL('../../bin/movr.js', import.meta.url));

const MOVR_VARIABLES = [
  'DATABASE_URL',
  'PORT',
  'HOST',
  'MOVR_REGION',
  'SECRET_KEY',
  'NODE_ENV',
  'LOG_LEVEL',
  'DATABASE_POOL_SIZE',
  'MOVR_TX_MAX_ATTEMPTS',
  'MOVR_HOME',
];

export function scratchDir(prefix = 'movr-cli-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = { ...process.env };
  for (const name of Object.keys(base)) {
    if (MOVR_VARIABLES.includes(name) || name.startsWith('MOVR_')) delete base[name];
  }
  return { ...base, ...env };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runMovr(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MOVR_BIN, ...args], {
      cwd: options.cwd ?? scratchDir(),
      env: childEnv(options.env ?? {}),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface RunningMovr {
  child: ChildProcess;
  url: string;
  output(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `movr serve` and resolves once it prints the URL it listens on. */
export function startMovr(options: { env?: Record<string, string>; cwd?: string } = {}): Promise<RunningMovr> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MOVR_BIN, 'serve'], {
      cwd: options.cwd ?? scratchDir(),
      env: childEnv({ PORT: '0', LOG_LEVEL: 'warn', ...options.env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = new Promise<number | null>((done) => child.on('close', done));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`movr serve did not start in time:\n${output}`));
    }, 90_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /MovR is running at (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({
          child,
          url: match[1],
          output: () => output,
          stop: (signal = 'SIGTERM') => {
            child.kill(signal);
            return exited;
          },
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`movr serve exited with ${code}:\n${output}`));
    });
  });
}

export interface InProcessResult {
  code: number;
  /** What the command wrote, one entry a write. */
  out: string[];
  err: string[];
  /** How many times it opened a database. */
  opened: number;
}

/**
 * Runs `movr <args>` in this process through runCli, without tsx's start-up. Without `config`,
 * reading the configuration fails the command; without `open`, opening a database does.
 */
export async function runMovrInProcess(
  args: string[],
  options: { config?: Config; open?: () => Promise<Database> } = {},
): Promise<InProcessResult> {
  const out: string[] = [];
  const err: string[] = [];
  let opened = 0;
  const context: CliContext = {
    config: () => {
      if (!options.config) throw new Error('this command must not read the configuration');
      return options.config;
    },
    open: async () => {
      opened++;
      if (!options.open) throw new Error('this command must not connect');
      return options.open();
    },
    out: (text) => void out.push(text),
    err: (text) => void err.push(text),
    exitCode: 0,
  };
  const code = await runCli(args, context);
  return { code, out, err, opened };
}
