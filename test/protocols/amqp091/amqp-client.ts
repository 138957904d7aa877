/** Helpers for tests that drive the broker with amqplib (RabbitMQ's most used Node client). */
import amqp from "amqplib";

export type Conn = amqp.ChannelModel;
export type Msg = amqp.ConsumeMessage;

export async function open(url: string): Promise<{ conn: Conn; ch: amqp.Channel }> {
  const conn = await amqp.connect(url);
  conn.on("error", () => {});
  const ch = await conn.createChannel();
  // Channel errors are what many tests provoke: they are asserted through the rejected operation.
  ch.on("error", () => {});
  return { conn, ch };
}

export async function openConfirm(url: string): Promise<{ conn: Conn; ch: amqp.ConfirmChannel }> {
  const conn = await amqp.connect(url);
  conn.on("error", () => {});
  const ch = await conn.createConfirmChannel();
  ch.on("error", () => {});
  return { conn, ch };
}

/** Resolves with the first `n` messages consumed from `queue`. */
export function take(
  ch: amqp.Channel,
  queue: string,
  n: number,
  opts: amqp.Options.Consume = {},
): Promise<Msg[]> {
  return new Promise((resolve, reject) => {
    const got: Msg[] = [];
    ch.consume(
      queue,
      (m) => {
        if (!m) return;
        got.push(m);
        if (got.length === n) resolve(got);
      },
      opts,
    ).catch(reject);
  });
}

/** The error a channel is closed with (amqplib emits 'error' with the reply code as `code`). */
export function channelError(ch: amqp.Channel): Promise<Error & { code?: number }> {
  return new Promise((resolve) => ch.once("error", resolve));
}

/** An operation expected to fail with a channel error carrying `code`. */
export async function expectCode(promise: Promise<unknown>, code: number): Promise<void> {
  try {
    await promise;
  } catch (err) {
    const c = (err as { code?: number }).code;
    if (c !== code) throw new Error(`expected reply code ${code}, got ${c}: ${(err as Error).message}`);
    return;
  }
  throw new Error(`expected reply code ${code}, but it succeeded`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls until `check` is true (no fixed sleeps: the machine is shared and slow). */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await sleep(10);
  }
}
