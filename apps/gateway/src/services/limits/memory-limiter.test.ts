import { limiterSuite } from "./limiter.suite.js";
import { MemoryLimiter } from "./memory-limiter.js";

limiterSuite("in-process", () => new MemoryLimiter());
