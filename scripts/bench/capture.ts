// "The same SQL" for pgbench, captured rather than copied: while `record` runs, every statement
// any pg.Client sends (text, parameters and the prepared-statement name) is written down; the
// pgbench scripts are then built from those statements by replacing parameter values with
// pgbench variables or key expressions. The SQL in MovR's domain code changes; this follows it.
import pg from 'pg';
import { BEGIN, BEGIN_STATEMENT } from '../../src/db/pipelined-begin.ts';

export interface Statement {
  readonly text: string;
  /** The parameters as sent, in their text form (null stays null). */
  readonly values: readonly (string | null)[];
  /** Set for a named (server-side prepared) statement. */
  readonly name: string | undefined;
  /** Sent in the same round trip as the statement after it (MovR's BEGIN, pipelined-begin.ts). */
  readonly pipelinedWithNext?: boolean;
}

/** A parameter value in the text form the driver sends it in. */
function textOf(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return `\\x${value.toString('hex')}`;
  if (Array.isArray(value) || typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function statementOf(config: unknown, values: unknown): Statement | undefined {
  if (typeof config === 'string') {
    return { text: config, values: Array.isArray(values) ? values.map(textOf) : [], name: undefined };
  }
  if (typeof config !== 'object' || config === null) return undefined;
  const query = config as { text?: unknown; values?: unknown; name?: unknown };
  if (typeof query.text !== 'string') return undefined;
  const params = Array.isArray(values) ? values : Array.isArray(query.values) ? query.values : [];
  return { text: query.text, values: params.map(textOf), name: typeof query.name === 'string' && query.name ? query.name : undefined };
}

/**
 * Runs `work` with pg.Client.prototype.query wrapped so that every statement sent meanwhile is
 * recorded, in order; the original is restored afterwards. Nothing else may use the database
 * from this process while it runs.
 */
export async function record<T>(work: () => Promise<T>): Promise<{ result: T; statements: Statement[] }> {
  const statements: Statement[] = [];
  const prototype = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = prototype.query;
  prototype.query = function (this: unknown, ...args: unknown[]) {
    const begins = (args[0] as { begins?: unknown } | null)?.begins;
    if (typeof begins === 'string') statements.push({ text: begins, values: [], name: BEGIN_STATEMENT, pipelinedWithNext: true });
    const statement = statementOf(args[0], args[1]);
    // A connection's first transaction sends BEGIN alone (preparing it); every later one pipelines
    // it with the next statement, and the bench measures the steady state.
    if (statement) statements.push(statement.text === BEGIN ? { ...statement, pipelinedWithNext: true } : statement);
    return original.apply(this, args);
  };
  try {
    const result = await work();
    return { result, statements };
  } finally {
    prototype.query = original;
  }
}

/** What a parameter value becomes in the pgbench script. */
export type Substitution =
  /** An SQL expression over pgbench variables, e.g. `md5('bench-rider-' || :n)::uuid`. */
  | { expression: string }
  /** A pgbench variable (defined with -D or \set), e.g. `city`. */
  | { variable: string };

export interface PgbenchScript {
  /** The script's text, for `pgbench -f`. */
  readonly text: string;
  /** Constants the script refers to, passed with `-D name=value`. */
  readonly defines: ReadonlyMap<string, string>;
}

/**
 * Turns recorded statements into pgbench SQL commands: each `$n` becomes what `substitute`
 * says for its value, or else a pgbench variable holding the recorded value as a constant
 * (so it stays a bind parameter under -M prepared, as it is for MovR); a null becomes NULL.
 * `defines` collects the constants (shared across calls, so equal values share one variable).
 */
export function pgbenchCommands(
  statements: readonly Statement[],
  substitute: (value: string) => Substitution | undefined,
  defines: Map<string, string>,
  prefix = 'v',
): string[] {
  // Only constants of this prefix are shared: other defines (counters, cities) are not constants.
  const byValue = new Map<string, string>();
  for (const [name, value] of defines) if (name.startsWith(prefix)) byValue.set(value, name);
  const commands = statements.map((statement) => {
    const text = statement.text.replace(/\$(\d+)\b/g, (match, digits: string) => {
      const index = Number(digits) - 1;
      if (index < 0 || index >= statement.values.length) throw new Error(`${match} has no value in: ${statement.text}`);
      const value = statement.values[index]!;
      if (value === null) return 'NULL';
      const substitution = substitute(value);
      if (substitution && 'expression' in substitution) return substitution.expression;
      if (substitution) return `:${substitution.variable}`;
      let name = byValue.get(value);
      if (!name) {
        for (let k = byValue.size + 1; ; k++) {
          if (!defines.has(`${prefix}${k}`)) {
            name = `${prefix}${k}`;
            break;
          }
        }
        defines.set(name, value);
        byValue.set(value, name);
      }
      return `:${name}`;
    });
    // pgbench reads an SQL command up to its semicolon, over several lines if need be; a
    // backslash would start a meta-command.
    if (text.includes('\\')) throw new Error(`a statement with a backslash cannot go into a pgbench script as it is: ${text}`);
    // pgbench reads `:name` as a variable: the recorded SQL must have no colon of its own but `::`.
    if (/(^|[^:]):(?!:)[A-Za-z_]/.test(statement.text)) throw new Error(`a statement with a colon pgbench would misread: ${statement.text}`);
    return `${text};`;
  });
  // What MovR sends in one round trip, pgbench sends in one pipeline.
  return commands.flatMap((command, i) => {
    if (statements[i]?.pipelinedWithNext) return ['\\startpipeline', command];
    if (statements[i - 1]?.pipelinedWithNext) return [command, '\\endpipeline'];
    return [command];
  });
}

/** The statements of a recording, one a line with their parameters and names, for --show-sql. */
export function describeStatements(statements: readonly Statement[]): string {
  return statements
    .map((s) => `${s.name ? `[prepared ${s.name}] ` : ''}${s.text}${s.values.length ? `   -- ${JSON.stringify(s.values)}` : ''}`)
    .join('\n');
}
