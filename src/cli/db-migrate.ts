// `movr db migrate`: applies the pending schema migrations (safe to run again).
import { Command } from 'commander';
import { migrate } from '../db/migrate.ts';
import { type CliContext, dbOption } from './common.ts';

export function dbMigrateCommand(context: CliContext): Command {
  return new Command('migrate')
    .description('Apply pending schema migrations (safe to run again)')
    .addOption(dbOption())
    .action((flags: { db?: string }) => dbMigrate(context, flags.db));
}

async function dbMigrate(context: CliContext, url: string | undefined): Promise<void> {
  const db = await context.open(url);
  try {
    const { applied } = await migrate(db, (s) => context.out(`applying ${s.migration} (statement ${s.index + 1})\n`));
    context.out(
      applied.length === 0
        ? `${db.displayUrl}: schema is up to date\n`
        : `${db.displayUrl}: applied ${applied.length} migration statements\n`,
    );
  } finally {
    await db.close();
  }
}
