// `movr demo-accounts`: the demo log-ins of the loaded data set, again (the first start and
// `movr workload init` print them once). On the embedded database their passwords are the
// well-known fixed ones; a server's were random and are not stored anywhere but as hashes.
import type { Command } from 'commander';
import { demoAccounts, fixedDemoPassword } from '../workload/generate.ts';
import { type CliContext, EXIT_FAILURE, databaseCommand } from './common.ts';

export function demoAccountsCommand(context: CliContext): Command {
  return databaseCommand(context, 'demo-accounts', 'List the demo accounts (on the embedded database with their passwords)', async (db) => {
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
    const specs = demoAccounts(context.config().regionMap.cities);
    context.out(db.kind === 'pglite' ? 'Demo accounts (username / password):\n' : 'Demo accounts (their passwords were printed by "movr workload init"):\n');
    for (const row of rows) {
      const username = String(row.username);
      const index = specs.findIndex((spec) => spec.username === username);
      const password = db.kind === 'pglite' && index >= 0 ? ` / ${fixedDemoPassword(index)}` : '';
      context.out(`  ${username}${password}  (${String(row.name)}, ${String(row.city)})\n`);
    }
  });
}
