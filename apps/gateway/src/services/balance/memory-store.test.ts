import { MemoryBalanceStore } from "./memory-store.js";
import { balanceStoreSuite } from "./store.suite.js";

balanceStoreSuite("in-process", () => new MemoryBalanceStore());
