// `movr db migrate`: applies the pending schema migrations (safe to run again).
import type { Command } from 'commander';
import { migrate } from '../db/migrate.ts';
import { type CliContext, databaseCommand } from './common.ts';

export function dbMigrateCommand(context: CliContext): Command {
  return databaseCommand(context, 'migrate', 'Apply pending schema migrations (safe to run again)', async (db) => {
    const { applied } = await migrate(db, (s) => context.out(`applying ${s.migration} (statement ${s.index + 1})\n`));
    context.out(
      applied.length === 0
        ? `${db.displayUrl}: schema is up to date\n`
        : `${db.displayUrl}: applied ${applied.length} migration statements\n`,
    );
  });
}
