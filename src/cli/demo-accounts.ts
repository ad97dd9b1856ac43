// `movr demo-accounts`: the demo log-ins of the loaded data set, again (the first start and
// `movr workload init` print them once). On the embedded database their passwords are the
// well-known fixed ones; a server's were random and are not stored anywhere but as hashes. While
// a server holds the embedded database, the accounts its first start created are listed instead.
import { Command } from 'commander';
import { DatabaseInUseError } from '../db/connect.ts';
import { MovrGenerator, fixedDemoPassword } from '../workload/generate.ts';
import { DEMO_INIT_OPTIONS } from '../workload/init.ts';
import { type CliContext, EXIT_FAILURE, dbOption, withDatabase } from './common.ts';

export function demoAccountsCommand(context: CliContext): Command {
  return new Command('demo-accounts')
    .description('List the demo accounts (on the embedded database with their passwords)')
    .addOption(dbOption())
    .action((flags: { db?: string }) => listDemoAccounts(context, flags.db));
}

async function listDemoAccounts(context: CliContext, url: string | undefined): Promise<void> {
  // The embedded first start's generator: its demo accounts and their fixed passwords.
  const generator = new MovrGenerator({ ...DEMO_INIT_OPTIONS, regions: context.config().regionMap, baseTime: new Date(0) });
  const password = (username: string) => {
    const index = generator.demoAccounts.findIndex((spec) => spec.username === username);
    return index >= 0 ? fixedDemoPassword(index) : undefined;
  };
  try {
    await withDatabase(context, url, async (db) => {
      const rows = await db.execute(
        `SELECT c.username AS username, u.name AS name, u.city AS city
         FROM user_credentials c JOIN users u ON u.city = c.city AND u.id = c.user_id
         WHERE c.username LIKE 'demo-%' ORDER BY c.username`,
      );
      if (rows.length === 0) {
        context.err('movr: this database has no demo accounts: load the data set with "movr workload init" first\n');
        context.exitCode = EXIT_FAILURE;
        return;
      }
      const embedded = db.kind === 'pglite';
      context.out(embedded ? 'Demo accounts (username / password):\n' : 'Demo accounts (their passwords were printed by "movr workload init"):\n');
      for (const row of rows) {
        const username = String(row.username);
        const known = embedded ? password(username) : undefined;
        context.out(`  ${username}${known ? ` / ${known}` : ''}  (${String(row.name)}, ${String(row.city)})\n`);
      }
    });
  } catch (error) {
    if (!(error instanceof DatabaseInUseError)) throw error;
    // The server holds the embedded database: its first start created these accounts.
    context.out('Demo accounts of the embedded database, which a running server holds (username / password):\n');
    generator.demoAccounts.forEach((_, i) => {
      const user = generator.demoUser(i);
      context.out(`  ${user.username} / ${fixedDemoPassword(i)}  (${user.name}, ${user.city})\n`);
    });
  }
}
