/**
 * fox-wamp (the npm Node.js WAMP router) as the WAMP benchmark runs it: WebSocket on
 * 127.0.0.1:PORT, its defaults otherwise. It is loaded from bench/wamp/peer (installed on demand
 * by bench/wamp/run.ts), not from Switchboard's own dependencies.
 *   node dist/bench/wamp/fox-server.js PORT
 */
import { createRequire } from "node:module";
import { join } from "node:path";

const port = Number(process.argv[2]);
const require = createRequire(join(process.cwd(), "bench", "wamp", "peer", "package.json"));
const FoxRouter = require("fox-wamp");
const router = new FoxRouter();
router.listenWAMP({ port, host: "127.0.0.1" });
process.on("SIGTERM", () => process.exit(0));
