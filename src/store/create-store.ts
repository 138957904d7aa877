/** Picks the Store implementation named in the configuration (`store: sqlite | memory`). */
import { MemoryStore } from "./memory-store.js";
import { SqliteStore } from "./sqlite-store.js";
import type { Store } from "./store.js";

/** "sqlite" keeps `<dataDir>/switchboard.db` with full durability; "memory" touches no disk. */
export function createStore(kind: "sqlite" | "memory", dataDir: string): Store {
  switch (kind) {
    case "sqlite":
      return new SqliteStore({ dir: dataDir });
    case "memory":
      return new MemoryStore();
  }
}
