/**
 * The benchmark reports only rows whose every call succeeded: a timing of error answers, retries or
 * empty results measures nothing, and a throughput figure that counts failures flatters. A row with
 * a failed call stops the run with this error, which names the row and what failed.
 */
export class RowRefused extends Error {
  constructor(
    readonly row: string,
    message: string,
  ) {
    super(`row "${row}" refused: ${message}`);
    this.name = 'RowRefused';
  }
}

/** Throws RowRefused when any of a row's calls failed; `failures` are their error messages. */
export function refuseUnlessAllSucceeded(row: string, calls: number, failures: readonly string[]): void {
  if (failures.length === 0) return;
  const distinct = [...new Set(failures)];
  const shown = distinct.slice(0, 3).join('; ');
  const more = distinct.length > 3 ? ` (and ${distinct.length - 3} other errors)` : '';
  throw new RowRefused(row, `${failures.length} of ${calls} calls failed: ${shown}${more}`);
}

/** A failure's message, for the refusal. */
export function failureMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
