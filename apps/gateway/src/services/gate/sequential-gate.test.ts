import { describe } from "vitest";
import { MemoryBalanceStore } from "../balance/memory-store.js";
import { MemoryLimiter } from "../limits/memory-limiter.js";
import { gateSuite } from "./gate.suite.js";
import { SequentialGate } from "./sequential-gate.js";

// The in-process gate (no REDIS_URL, and the local side of a Redis outage) holds to the same
// answers as the Redis script.
describe("sequential gate over the in-process stores", () => {
  gateSuite("in-process", () => {
    const limiter = new MemoryLimiter();
    const balance = new MemoryBalanceStore();
    return { gate: new SequentialGate(limiter, balance), limiter, balance };
  });
});
