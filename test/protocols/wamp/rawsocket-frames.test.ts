/**
 * The RawSocket transport writes its frames through the tick frame writer
 * (src/transports/tick-frame-writer.ts): small ones share one buffer per tick, larger ones go on
 * their own. A burst of events of mixed sizes, with a client PING in the middle of it, must reach a
 * plain TCP client whole and in order, and the PONG must carry the PING's payload. The client frames
 * by hand (WAMP §14.5.3): a 4-octet header of the frame type and a 24-bit length.
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { test } from "node:test";
import { startTestBroker } from "../../helpers/broker.js";

const MESSAGE = 0;
const PING = 1;
const PONG = 2;

interface Frame {
  type: number;
  payload: Buffer;
}

function frame(type: number, payload: Buffer | string): Buffer {
  const body = Buffer.from(payload);
  const h = Buffer.alloc(4);
  h.writeUInt32BE(body.length);
  h[0] = type;
  return Buffer.concat([h, body]);
}

/** Connects, shakes hands for JSON with the largest length, joins realm1; frames after WELCOME go to `frames`. */
async function join(port: number, frames: Frame[]): Promise<Socket> {
  const s = connect({ port, host: "127.0.0.1" });
  let buf = Buffer.alloc(0);
  let shaken = false;
  let welcomed: () => void = () => {};
  const welcome = new Promise<void>((r) => {
    welcomed = r;
  });
  s.on("data", (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    if (!shaken) {
      if (buf.length < 4) return;
      assert.equal(buf[0], 0x7f);
      buf = buf.subarray(4);
      shaken = true;
      s.write(frame(MESSAGE, JSON.stringify([1, "realm1", { roles: { publisher: {}, subscriber: {} } }])));
    }
    while (buf.length >= 4) {
      const n = buf.readUInt32BE(0) & 0xffffff;
      if (buf.length < 4 + n) break;
      const f = { type: buf[0]!, payload: buf.subarray(4, 4 + n) };
      buf = buf.subarray(4 + n);
      if (f.type === MESSAGE && f.payload.toString().startsWith("[2,")) welcomed();
      else frames.push(f);
    }
  });
  await new Promise<void>((resolve, reject) => {
    s.once("error", reject);
    s.once("connect", () => {
      s.write(Buffer.from([0x7f, 0xf1, 0, 0]));
      resolve();
    });
  });
  await welcome;
  return s;
}

test("WAMP over RawSocket: a burst of events of mixed sizes and a PING arrive whole and in order", {
  timeout: 20_000,
}, async () => {
  const b = await startTestBroker();
  const subFrames: Frame[] = [];
  const pubFrames: Frame[] = [];
  const sub = await join(b.wampPort, subFrames);
  const pub = await join(b.wampPort, pubFrames);
  try {
    sub.write(frame(MESSAGE, JSON.stringify([32, 1, {}, "frames.raw"])));
    const until0 = Date.now() + 5000;
    while (!subFrames.some((f) => f.payload.toString().startsWith("[33,")) && Date.now() < until0)
      await new Promise((r) => setTimeout(r, 10));
    subFrames.length = 0;
    // Sizes around the arena's limits, repeated so one tick carries more frames than the early flush.
    const sizes = [0, 10, 100, 1000, 1010, 1024, 1100, 5000, 16_000, 17_000, 70_000];
    const sent: string[] = [];
    const burst: Buffer[] = [];
    for (let round = 0; round < 4; round++) {
      for (const n of sizes) {
        const text = `${round}:${n}:`.padEnd(Math.max(n, 8), "x");
        sent.push(text);
        burst.push(frame(MESSAGE, JSON.stringify([16, sent.length, {}, "frames.raw", [text]])));
      }
    }
    pub.write(Buffer.concat(burst));
    // The subscriber pings while its events pour in: the PONG goes out among them.
    sub.write(frame(PING, "are you there"));
    const until = Date.now() + 10_000;
    const events = () => subFrames.filter((f) => f.type === MESSAGE);
    while (events().length < sent.length && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    const texts = events().map((f) => ((JSON.parse(f.payload.toString()) as unknown[])[4] as string[])[0]);
    assert.deepEqual(texts, sent);
    const pongs = subFrames.filter((f) => f.type === PONG);
    assert.equal(pongs.length, 1);
    assert.equal(pongs[0]!.payload.toString(), "are you there");
  } finally {
    sub.destroy();
    pub.destroy();
    await b.close();
  }
});
