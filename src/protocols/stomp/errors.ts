/**
 * A frame the broker refuses. The connection answers with an ERROR frame whose `message` header is
 * `summary` and whose body is `detail` (STOMP 1.2 §"ERROR"), then closes the connection.
 */
export class StompFrameError extends Error {
  override name = "StompFrameError";

  constructor(
    readonly summary: string,
    readonly detail: string,
  ) {
    super(`${summary}: ${detail}`);
  }
}

/** A header the frame must have (STOMP 1.2 lists them per frame), or a StompFrameError. */
export function required(value: string | undefined, name: string, command: string): string {
  if (value === undefined) {
    throw new StompFrameError(`missing header '${name}'`, `a ${command} frame must have a '${name}' header`);
  }
  return value;
}
