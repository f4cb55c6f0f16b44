import type { QueuedUsage } from "./persist.js";

/**
 * Where served requests' usage goes. `append` resolves once the entry is durable enough to send
 * the response (in Redis: XADDed; in process: queued, flushed on shutdown).
 */
export interface UsageSink {
  append(item: QueuedUsage): Promise<void>;
  /** Entries appended but not yet committed to Postgres. */
  depth(): Promise<number>;
  /** Wait until everything appended so far is in Postgres (shutdown, tests). */
  flush(): Promise<void>;
  close(): Promise<void>;
}
