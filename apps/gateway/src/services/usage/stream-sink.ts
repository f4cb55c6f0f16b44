import type { Redis } from "ioredis";
import { encodeUsage, type QueuedUsage } from "./persist.js";
import type { UsageSink } from "./sink.js";

/** The usage stream; the hash tag keeps it in one slot with nothing else in particular. */
export const USAGE_STREAM = "usage:{stream}";
export const USAGE_GROUP = "usage-writers";

/**
 * Usage into a Redis Stream: `append` resolves after XADD, before the response is sent, so a
 * crash after answering loses nothing. `StreamUsageWriter` moves entries into Postgres.
 */
export class StreamUsageSink implements UsageSink {
  readonly stream: string;

  constructor(
    private readonly redis: Redis,
    stream?: string,
  ) {
    this.stream = stream ?? USAGE_STREAM;
  }

  async append(item: QueuedUsage): Promise<void> {
    await this.redis.xadd(this.stream, "*", "e", encodeUsage(item));
  }

  /** Entries not yet written and acknowledged (the writer deletes what it acknowledged). */
  depth(): Promise<number> {
    return this.redis.xlen(this.stream);
  }

  async flush(timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while ((await this.depth()) > 0) {
      if (Date.now() > until) throw new Error("usage stream did not drain in time");
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    // Entries stay in the stream for the next writer; nothing to flush from this process.
  }
}
