/** Picks the Store implementation named in the configuration (`store: sqlite | memory`). */
import { MemoryStore } from "./memory-store.js";
import { type SqliteDurability, SqliteStore } from "./sqlite-store.js";
import type { Store } from "./store.js";

export interface CreateStoreOptions {
  /**
   * SQLite only (config `durability`): "normal" (default) commits before acknowledging (survives
   * SIGKILL of the process); "full" also fsyncs each commit (survives OS crash and power loss);
   * "relaxed" commits every second (docs/storage.md).
   */
  durability?: SqliteDurability;
}

/** "sqlite" keeps `<dataDir>/switchboard.db` ("normal" durability unless told otherwise); "memory" touches no disk. */
export function createStore(
  kind: "sqlite" | "memory",
  dataDir: string,
  options: CreateStoreOptions = {},
): Store {
  switch (kind) {
    case "sqlite":
      return new SqliteStore({ dir: dataDir, durability: options.durability ?? "normal" });
    case "memory":
      return new MemoryStore();
  }
}
