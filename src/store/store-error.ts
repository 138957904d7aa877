/**
 * A store that cannot be opened or read: not a database, damaged, rows that do not decode, a schema
 * from a newer Switchboard, a file that cannot be opened. The message starts with the file's path, so
 * the operator knows what to look at; the original error is the `cause`. The broker refuses to start
 * (it never starts empty over existing data) and the file is left as it was found.
 */
export class StoreOpenError extends Error {
  override name = "StoreOpenError";
  readonly path: string;

  constructor(path: string, cause: unknown) {
    super(`${path}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.path = path;
  }
}
