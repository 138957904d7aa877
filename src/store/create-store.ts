/** Picks the Store implementation named in the configuration (`store: sqlite | memory`). */
import { MemoryStore } from "./memory-store.js";
import { SqliteStore } from "./sqlite-store.js";
import type { Store } from "./store.js";

export interface CreateStoreOptions {
  /** SQLite only (config `durability`): "full" (default) commits before acknowledging; "relaxed" every second. */
  durability?: "full" | "relaxed";
}

/** "sqlite" keeps `<dataDir>/switchboard.db` (full durability unless told otherwise); "memory" touches no disk. */
export function createStore(
  kind: "sqlite" | "memory",
  dataDir: string,
  options: CreateStoreOptions = {},
): Store {
  switch (kind) {
    case "sqlite":
      return new SqliteStore({ dir: dataDir, durability: options.durability ?? "full" });
    case "memory":
      return new MemoryStore();
  }
}
