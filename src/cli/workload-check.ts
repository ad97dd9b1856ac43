// `movr workload check`: one query per invariant of the data; exit code 1 if any fails.
import type { Command } from 'commander';
import type { Database } from '../db/connect.ts';
import { checkInvariants, formatCheck } from '../workload/check.ts';
import { type CliContext, EXIT_FAILURE, databaseCommand } from './common.ts';

export function workloadCheckCommand(context: CliContext): Command {
  return databaseCommand(context, 'check', 'Check the invariants of the data; exit code 1 if any fails', async (db) => {
    context.out(`Checking ${db.displayUrl}\n`);
    await reportInvariants(context, db);
  });
}

/** Checks the invariants and prints the result; a violation makes the exit code 1. */
export async function reportInvariants(context: CliContext, db: Database, before = ''): Promise<void> {
  const result = await checkInvariants(db);
  context.out(`${before}${formatCheck(result)}\n`);
  if (!result.ok) context.exitCode = EXIT_FAILURE;
}
