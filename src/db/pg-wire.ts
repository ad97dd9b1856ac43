// What MovR's own node-postgres Submittables share (the lean path in lean.ts, the prepared
// BEGIN in pipelined-begin.ts): the parts of node-postgres's Connection they drive, and a base
// that ends through `callback` and ignores the messages a statement without rows never gets.

/** The parts of node-postgres's Connection a Submittable drives (lib/connection.js). */
export interface PgConnection {
  stream: { cork?: () => void; uncork?: () => void };
  parsedStatements: Record<string, string | undefined>;
  submittedNamedStatements: Record<string, string | undefined>;
  parse(query: { text: string; name: string; types: unknown[] }): void;
  bind(config: { portal: string; statement: string; values: unknown[]; binary: boolean }): void;
  execute(config: { portal: string; rows: number }): void;
  sync(): void;
  sendCopyFail(message: string): void;
}

/** Writes `write`'s messages to the connection in one socket write. */
export function corked(connection: PgConnection, write: () => void): void {
  connection.stream.cork?.();
  try {
    write();
  } finally {
    connection.stream.uncork?.();
  }
}

/** A Submittable that sends its messages in submit() and ends with ReadyForQuery or an error. */
export abstract class Submittable {
  /**
   * How the statement ends: node-postgres wraps it when a query_timeout is set (to clear its
   * timer, or to fail the statement when the timer fires), so the end must come through it.
   * Ending without it left every statement held by a pending timer for the whole timeout.
   */
  callback: (error: Error | null) => void;

  constructor(done: (error: Error | null) => void) {
    this.callback = done;
  }

  abstract submit(connection: PgConnection): null;

  /** The last message of a successful statement. */
  handleReadyForQuery(): void {
    this.callback(null);
  }

  /** A failed statement ends here (node-postgres drops it as the active query before ReadyForQuery). */
  handleError(error: Error): void {
    this.callback(error);
  }

  handleDataRow(_message: { fields: readonly (string | null)[] }): void {}
  handleRowDescription(): void {}
  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
  handleCopyInResponse(connection: PgConnection): void {
    connection.sendCopyFail('COPY is not expected here');
  }
}
