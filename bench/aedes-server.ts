/** Aedes (npm) on a plain net server at 127.0.0.1:<port>, for side-by-side runs. Usage: aedes-server.js PORT */

import net from "node:net";
import { Aedes } from "aedes";

const port = Number(process.argv[2] ?? 1883);
const broker = await Aedes.createBroker();
// Aedes's documented set-up: a plain net server (Nagle on, as Mosquitto's default).
const server = net.createServer((socket) => broker.handle(socket));
server.listen(port, "127.0.0.1", () => process.stderr.write(`aedes listening on 127.0.0.1:${port}\n`));

const stop = (): void => {
  server.close();
  broker.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
