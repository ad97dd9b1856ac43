// The `movr` command: commander parses the command line, and each command lives in its own file
// here. This file registers them, adds --version and help, and turns what happened into an
// exit code: 0 done (help included), 1 failed (one line that says why), 2 called wrongly (the
// error and the command's usage on stderr). See docs/decisions/0011-cli.md.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { type CliContext, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, processContext } from './common.ts';
import { dbMigrateCommand } from './db-migrate.ts';
import { dbRegionsCommand } from './db-regions.ts';
import { dbStatusCommand } from './db-status.ts';
import { demoAccountsCommand } from './demo-accounts.ts';
import { operatorsCommands } from './operators.ts';
import { serveCommand } from './serve.ts';
import { workloadCheckCommand } from './workload-check.ts';
import { workloadInitCommand } from './workload-init.ts';
import { workloadReportCommand } from './workload-report.ts';
import { workloadRunCommand } from './workload-run.ts';

/** The program with every command; a new one for each run (commander keeps parsed values). */
export function buildProgram(context: CliContext): Command {
  const program = withSubcommands(
    new Command('movr')
      .description('MovR: a global vehicle-sharing platform on PostgreSQL, CockroachDB or an embedded database')
      .version(`movr ${packageVersion()}`, '--version', 'Print the version')
      .helpCommand(false),
    [
      serveCommand(context),
      demoAccountsCommand(context),
      withSubcommands(new Command('db').description('The database: schema migrations and geo-partitioning'), [
        dbMigrateCommand(context),
        dbStatusCommand(context),
        dbRegionsCommand(context),
      ]),
      withSubcommands(new Command('operators').description('Who may run the platform: the operator pages and API'), operatorsCommands(context)),
      withSubcommands(new Command('workload').description('Load, drive and check the MovR data set'), [
        workloadInitCommand(context),
        workloadRunCommand(context),
        workloadCheckCommand(context),
        workloadReportCommand(context),
      ]),
    ],
  );
  program.addCommand(helpCommand(program));
  // The top level lists every command by its full name: db migrate, workload run, …
  program.configureHelp({ visibleCommands: commandsBelow, subcommandTerm: (command) => `${pathOf(command)} ${command.usage()}` });
  program.addHelpText(
    'after',
    '\nRun "movr <command> --help" for the options of a command.\n' +
      'Exit codes: 0 done, 1 failed (the message says why), 2 wrong usage.\n' +
      'Configuration comes from the environment and a .env file: see the README.',
  );
  return program;
}

/** Runs the command line argv and resolves with the exit code; writes only through context. */
export async function runCli(argv: readonly string[], context: CliContext = processContext()): Promise<number> {
  const program = buildProgram(context);
  let current = program; // the command being parsed, whose usage a usage error shows
  for (const command of [program, ...commandsBelow(program, true)]) {
    command
      .helpOption('-h, --help', 'Show this help')
      .exitOverride()
      .configureOutput({ writeOut: context.out, writeErr: context.err, outputError: () => {} })
      .hook('preSubcommand', (_, subcommand) => {
        current = subcommand;
      });
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return context.exitCode;
  } catch (error) {
    if (error instanceof CommanderError && error.exitCode === EXIT_OK) return EXIT_OK; // --help, --version
    if (error instanceof CommanderError || error instanceof UsageError) {
      context.err(`movr: ${usageMessage(error)}\n\n`);
      current.outputHelp({ error: true });
      if (current !== program) context.err('\nRun "movr help" for usage.\n');
      return EXIT_USAGE;
    }
    context.err(`movr: ${failureMessage(error)}\n`);
    return EXIT_FAILURE;
  }
}

/** bin/movr.js: the process exits with the command's code once its work is done. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  process.exitCode = await runCli(argv);
}

// ---- the command tree --------------------------------------------------------------------------

/** A command with subcommands. Alone it lists them (exit 0); an unknown one is a usage error. */
function withSubcommands(command: Command, subcommands: Command[]): Command {
  for (const subcommand of subcommands) command.addCommand(subcommand);
  return command.allowExcessArguments().action(() => {
    const [unknown] = command.args;
    if (unknown !== undefined) throw new UsageError(`unknown command "${[pathOf(command), unknown].join(' ').trim()}"`);
    command.outputHelp();
  });
}

/** `movr help [command...]`: the help of movr, or of the command named. */
function helpCommand(program: Command): Command {
  return new Command('help')
    .description('Show this help, or the help of a command')
    .argument('[command...]', 'a command, e.g. workload run')
    .action((names: string[]) => {
      let command = program;
      for (const name of names) {
        const next = command.commands.find((c) => c.name() === name);
        if (!next) throw new UsageError(`unknown command "${names.join(' ')}"`);
        command = next;
      }
      command.outputHelp();
    });
}

/** The commands that do the work (leaves), or with all every command, below `command`. */
function commandsBelow(command: Command, all = false): Command[] {
  return command.commands.flatMap((c) =>
    c.commands.length === 0 ? [c] : [...(all ? [c] : []), ...commandsBelow(c, all)],
  );
}

/** A command's name as typed after `movr`: "db migrate". */
function pathOf(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

// ---- messages ----------------------------------------------------------------------------------

/** Commander's message without its "error: " and capitalised, or ours as it is. */
function usageMessage(error: CommanderError | UsageError): string {
  if (error instanceof UsageError) return error.message;
  const message = error.message.replace(/^error: /, '');
  return message.charAt(0).toUpperCase() + message.slice(1);
}

/** Expected failures (unreachable database, pending migrations) read best without a stack. */
function failureMessage(error: unknown): string {
  let message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error && !message.includes(cause.message)) message += ` (${cause.message})`;
  return message;
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
