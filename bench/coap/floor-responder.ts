/**
 * The floor of a Node.js CoAP server: a `dgram` socket that answers a CoAP ping (an empty CON) with
 * RST and every other datagram with a piggybacked 2.05 Content of a fixed payload, parsing nothing
 * but the header and token. It has no CoAP logic at all, so its cost per GET is what Node.js itself
 * costs per datagram received and sent (bench/coap/get-floor.ts compares it with Switchboard and
 * libcoap). Not a server to use: it answers everything, requests or not, with the same content.
 *
 *   node dist/bench/coap/floor-responder.js PORT
 */
import { createSocket } from "node:dgram";

const port = Number(process.argv[2]);
const PAYLOAD = Buffer.from("21.5 C");

// Replies go to the IP literal the request came from: answered at once, as Switchboard's UDP socket does.
const socket = createSocket({
  type: "udp4",
  lookup: (host: string, _o: unknown, cb: (e: null, a: string, f: number) => void) => cb(null, host, 4),
});
socket.on("message", (d: Buffer, from) => {
  if (d.length < 4) return;
  const tkl = d[0]! & 0x0f;
  if (d[1] === 0) {
    // Empty message: a ping is answered with RST (RFC 7252 §4.3).
    socket.send(Buffer.from([0x70, 0, d[2]!, d[3]!]), from.port, from.address);
    return;
  }
  const out = Buffer.allocUnsafe(4 + tkl + 1 + PAYLOAD.length);
  out[0] = 0x60 | tkl; // version 1, ACK
  out[1] = 0x45; // 2.05 Content
  out[2] = d[2]!;
  out[3] = d[3]!;
  d.copy(out, 4, 4, 4 + tkl);
  out[4 + tkl] = 0xff;
  PAYLOAD.copy(out, 5 + tkl);
  socket.send(out, from.port, from.address);
});
process.on("SIGTERM", () => socket.close(() => process.exit(0)));
socket.bind(port, "127.0.0.1");
