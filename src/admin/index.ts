/** The HTTP admin API (docs/admin.md): RPC from HTTP and the device directory, on the broker's HTTP server. */
import type { Router } from "../core/router.js";
import type { HttpServer } from "../transports/http.js";
import { CLIENTS_PATH, clientsRoute } from "./clients-route.js";
import { RPC_PATH, rpcRoute } from "./rpc-route.js";

export interface AdminOptions {
  /** Largest request body accepted (bytes). */
  maxBodyBytes: number;
}

export function installAdminApi(http: HttpServer, router: Router, options: AdminOptions): void {
  http.addPrefixRoute("POST", RPC_PATH, rpcRoute(router, options.maxBodyBytes));
  http.addRoute("GET", CLIENTS_PATH, clientsRoute(router));
}
