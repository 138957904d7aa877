// TEMPORARY (lead): replaced by the SQLite engineer's create-store.
import { MemoryStore } from "./memory-store.js";
import type { Store } from "./store.js";

export function createStore(_kind: "sqlite" | "memory", _dataDir: string): Store {
  return new MemoryStore();
}
