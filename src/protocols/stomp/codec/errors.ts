/** A frame the decoder cannot accept. The connection answers with an ERROR frame and closes. */
export type StompCodecErrorCode =
  | "frame-too-large"
  | "too-many-headers"
  | "header-too-long"
  | "bad-header"
  | "bad-escape"
  | "bad-content-length"
  | "content-length-mismatch"
  | "bad-command";

export class StompCodecError extends Error {
  override name = "StompCodecError";

  constructor(
    readonly code: StompCodecErrorCode,
    message: string,
  ) {
    super(message);
  }
}
