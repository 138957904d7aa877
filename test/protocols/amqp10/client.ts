/** rhea (the npm AMQP 1.0 client) behind promises, for the AMQP 1.0 tests. */
import rhea from "rhea";

export type RheaConnection = rhea.Connection;
export type RheaMessage = rhea.Message;

export interface OpenOptions {
  username?: string;
  password?: string;
  /** No SASL layer at all (the plain AMQP header). */
  noSasl?: boolean;
  idleTimeoutMs?: number;
  maxFrameSize?: number;
  containerId?: string;
}

/** Opens a connection and waits for the broker's open. */
export function connect(port: number, opts: OpenOptions = {}): Promise<rhea.Connection> {
  const container = rhea.create_container({
    id: opts.containerId ?? `test-${Math.random().toString(36).slice(2)}`,
  });
  return new Promise((resolve, reject) => {
    const conn = container.connect({
      host: "127.0.0.1",
      port,
      reconnect: false,
      // rhea speaks SASL only when given a user name: "anonymous" without a password is ANONYMOUS.
      username: opts.username ?? (opts.noSasl ? undefined : "anonymous"),
      password: opts.password,
      idle_time_out: opts.idleTimeoutMs,
      max_frame_size: opts.maxFrameSize,
    } as rhea.ConnectionOptions);
    conn.once("connection_open", () => resolve(conn));
    conn.once("connection_error", (ctx) => reject(ctx.connection.error ?? new Error("connection error")));
    conn.once("disconnected", (ctx) => reject(ctx.error ?? new Error("disconnected")));
  });
}

/** A receiver that collects messages; `take(n)` waits for n of them. */
export class Inbox {
  readonly messages: Array<{ message: rhea.Message; delivery: rhea.Delivery }> = [];
  private waiters: Array<() => void> = [];
  constructor(readonly receiver: rhea.Receiver) {
    receiver.on("message", (ctx) => {
      this.messages.push({ message: ctx.message!, delivery: ctx.delivery! });
      for (const w of this.waiters.splice(0)) w();
    });
  }

  async take(n: number, ms = 5000): Promise<Array<{ message: rhea.Message; delivery: rhea.Delivery }>> {
    const until = Date.now() + ms;
    while (this.messages.length < n) {
      const left = until - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${n} messages (got ${this.messages.length})`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.messages.splice(0, n);
  }
}

/** Opens a receiver and waits for the broker's attach. */
export function receiver(conn: rhea.Connection, opts: rhea.ReceiverOptions | string): Promise<Inbox> {
  return new Promise((resolve, reject) => {
    const r = conn.open_receiver(opts);
    const inbox = new Inbox(r);
    let failed = false;
    // A refused attach is an attach with a null source followed by a detach with the error
    // (part 2 §2.6.3): wait briefly for that detach before calling the link open.
    r.once("receiver_open", () => setTimeout(() => failed || resolve(inbox), 30));
    r.once("receiver_error", (ctx) => {
      failed = true;
      reject(ctx.receiver?.error ?? new Error("receiver error"));
    });
  });
}

export function sender(conn: rhea.Connection, opts: rhea.SenderOptions | string): Promise<rhea.Sender> {
  return new Promise((resolve, reject) => {
    const s = conn.open_sender(opts);
    s.once("sendable", () => resolve(s));
    s.once("sender_error", (ctx) => reject(ctx.sender?.error ?? new Error("sender error")));
  });
}

/** Sends and waits for the broker's outcome: "accepted", "rejected", "released", "modified". */
export function send(s: rhea.Sender, message: rhea.Message): Promise<{ outcome: string; state: unknown }> {
  return new Promise((resolve) => {
    const d = s.send(message);
    const on = (name: string) => (ctx: rhea.EventContext) => {
      if (ctx.delivery === d)
        resolve({
          outcome: name,
          state: (ctx.delivery as unknown as { remote_state: unknown }).remote_state,
        });
    };
    s.on("accepted", on("accepted"));
    s.on("rejected", on("rejected"));
    s.on("released", on("released"));
    s.on("modified", on("modified"));
  });
}

export function closeConn(conn: rhea.Connection): Promise<void> {
  return new Promise((resolve) => {
    if (!conn.is_open()) {
      resolve();
      return;
    }
    conn.once("connection_close", () => resolve());
    conn.once("disconnected", () => resolve());
    conn.close();
  });
}

export function errorOf(ev: Promise<unknown>): Promise<{ condition: string; description: string }> {
  return ev.then(
    () => {
      throw new Error("expected an error");
    },
    (e: { condition?: string; description?: string }) => ({
      condition: e.condition ?? "",
      description: e.description ?? "",
    }),
  );
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function until(cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await sleep(10);
  }
}
