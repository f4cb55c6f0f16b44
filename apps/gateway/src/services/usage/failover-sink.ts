import type { RedisBreaker } from "../redis-breaker.js";
import type { QueuedUsage } from "./persist.js";
import type { UsageSink } from "./sink.js";
import type { SpoolUsageSink } from "./spool.js";

/**
 * Usage into the Redis stream while the breaker is closed, into the local durable spool while it
 * is open (or when an XADD fails for availability). Either way `append` resolves only once the
 * entry is durable, before the response is sent. An XADD that timed out may still have landed:
 * the entry is then both in the stream and in the spool, and the idempotent writer keeps one.
 * The spool drains into Postgres directly, with or without Redis.
 */
export class FailoverUsageSink implements UsageSink {
  constructor(
    private readonly primary: UsageSink,
    readonly spool: SpoolUsageSink,
    private readonly breaker: RedisBreaker,
  ) {}

  append(item: QueuedUsage): Promise<void> {
    return this.breaker.run(
      "usage",
      () => this.primary.append(item),
      () => this.spool.append(item),
    );
  }

  async depth(): Promise<number> {
    const spooled = await this.spool.depth();
    if (!this.breaker.closed) return spooled;
    return spooled + (await this.primary.depth().catch(() => 0));
  }

  async flush(): Promise<void> {
    await this.spool.flush();
    if (this.breaker.closed) await this.primary.flush();
  }

  async close(): Promise<void> {
    await Promise.all([this.spool.close(), this.primary.close()]);
  }
}
