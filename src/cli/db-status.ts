// `movr db status`: lists the pending schema migrations; exit code 1 if there are any.
import type { Command } from 'commander';
import { pendingMigrations } from '../db/migrate.ts';
import { type CliContext, EXIT_FAILURE, databaseCommand } from './common.ts';

export function dbStatusCommand(context: CliContext): Command {
  return databaseCommand(context, 'status', 'List pending schema migrations (exit code 1 if any)', async (db) => {
    const pending = await pendingMigrations(db);
    if (pending.length === 0) {
      context.out(`${db.displayUrl}: schema is up to date\n`);
      return;
    }
    context.out(`${db.displayUrl}: ${pending.length} pending migration statements\n`);
    for (const s of pending) context.out(`  ${s.migration} statement ${s.index + 1}\n`);
    context.exitCode = EXIT_FAILURE;
  });
}
