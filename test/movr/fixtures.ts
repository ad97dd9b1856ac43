// Assertions the domain tests share: what a promise rejected with, and that it is a given domain
// error. Users, rows and snapshots come from test/support/.

/** The rejection of a promise, for checking several properties of an error. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

export const minutes = (n: number) => n * 60_000;

/** Awaits a rejection and checks its class and (for domain errors) its code; returns the error. */
export async function expectError<T extends Error>(
  promise: Promise<unknown>,
  type: abstract new (...args: any[]) => T,
  code?: string,
): Promise<T> {
  const error = await rejectionOf(promise);
  if (!(error instanceof type)) {
    throw new Error(`expected a ${type.name}, got ${String(error)}`, { cause: error });
  }
  if (code !== undefined && (error as unknown as { code?: unknown }).code !== code) {
    throw new Error(`expected code ${code}, got ${String((error as unknown as { code?: unknown }).code)}: ${error.message}`, {
      cause: error,
    });
  }
  return error;
}

