/**
 * An AMQP exception: a reply code and text, and the method that caused it. Hard errors (5xx, 320,
 * 402) close the connection, soft ones (4xx) only the channel (§1.2, "Exceptions").
 */
import { isHardError, REPLY_TEXT } from "./constants.js";

export class AmqpError extends Error {
  override name = "AmqpError";
  readonly connectionLevel: boolean;

  constructor(
    readonly code: number,
    text: string,
    readonly classId = 0,
    readonly methodId = 0,
    connectionLevel?: boolean,
  ) {
    super(`${REPLY_TEXT[code] ?? "ERROR"} - ${text}`);
    this.connectionLevel = connectionLevel ?? isHardError(code);
  }

  /** The reply-text field: a shortstr, so at most 255 bytes. */
  get replyText(): string {
    const t = this.message;
    return Buffer.byteLength(t) <= 255 ? t : Buffer.from(t).subarray(0, 255).toString("latin1");
  }
}
