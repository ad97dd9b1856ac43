// `movr operators grant <username>`, `movr operators revoke <username>` and `movr operators list`:
// who may run the platform (the /operator pages and /api/v1/operator), on the configured
// database. Recorded in the operators' actions as done by the `movr` command (decision 0023).
import { Command } from 'commander';
import { grantOperator, listOperators, revokeOperator } from '../movr/operators.ts';
import { type CliContext, assertMigrated, dbOption, withDatabase } from './common.ts';

function roleCommand(context: CliContext, name: 'grant' | 'revoke'): Command {
  const granting = name === 'grant';
  return new Command(name)
    .description(granting ? 'Make a user an operator' : 'Take the operator role away from a user')
    .argument('<username>', 'the user’s username')
    .addOption(dbOption())
    .action((username: string, flags: { db?: string }) =>
      withDatabase(context, flags.db, async (db) => {
        await assertMigrated(db);
        const { changed } = granting ? await grantOperator(db, username) : await revokeOperator(db, username);
        const who = username.trim().toLowerCase();
        if (granting) context.out(changed ? `${who} is now an operator\n` : `${who} is an operator already\n`);
        else context.out(changed ? `${who} is no longer an operator\n` : `${who} was not an operator\n`);
      }),
    );
}

function listCommand(context: CliContext): Command {
  return new Command('list')
    .description('List the operators')
    .addOption(dbOption())
    .action((flags: { db?: string }) =>
      withDatabase(context, flags.db, async (db) => {
        await assertMigrated(db);
        const operators = await listOperators(db);
        if (operators.length === 0) context.out('No operators yet: run "movr operators grant <username>".\n');
        for (const operator of operators) {
          context.out(`${operator.username ?? `(no username: ${operator.city}/${operator.id})`}\t${operator.city}\tsince ${operator.grantedAt.toISOString()}\n`);
        }
      }),
    );
}

export function operatorsCommands(context: CliContext): Command[] {
  return [roleCommand(context, 'grant'), roleCommand(context, 'revoke'), listCommand(context)];
}
