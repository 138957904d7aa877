import { MemoryStore } from "../../src/store/memory-store.js";
import { storeConformance } from "./conformance.js";

storeConformance("memory", async () => {
  const store = new MemoryStore();
  // Memory is durable for the life of the instance: "reopening" is using the same instance.
  return { store, reopen: async () => store, cleanup: () => store.close() };
});
