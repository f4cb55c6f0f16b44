import type { Database } from "@portal/db";
import type { Logger } from "pino";
import { BatchWriter } from "./batch-writer.js";
import { encodeUsage, persistUsageBatch, type QueuedUsage } from "./persist.js";
import { persistIsolatingPoison } from "./poison.js";
import type { UsageSink } from "./sink.js";
import type { SpoolUsageSink } from "./spool.js";

/**
 * Usage without Redis: the in-process batch queue, flushed on an interval and at shutdown. With a
 * spool (the gateway's data dir), nothing is dropped while Postgres is away: entries past the
 * memory bound, and whatever is still queued at shutdown, go to the local durable spool, which
 * drains them into Postgres (idempotently) as soon as it answers, in this process or the next.
 */
export class MemoryUsageSink implements UsageSink {
  private readonly writer: BatchWriter<QueuedUsage>;
  private readonly spool: SpoolUsageSink | undefined;

  constructor(
    db: Database,
    private readonly logger: Logger,
    intervalMs: number,
    opts: { spool?: SpoolUsageSink; maxBuffered?: number } = {},
  ) {
    const spool = opts.spool;
    this.spool = spool;
    this.writer = new BatchWriter<QueuedUsage>({
      name: "usage_events",
      intervalMs,
      maxBatch: 500,
      maxBuffered: opts.maxBuffered ?? 200_000,
      ...(spool && {
        onOverflow: (item: QueuedUsage) => {
          spool
            .append(item)
            .catch((err) =>
              logger.error({ err, usage: encodeUsage(item) }, "usage spool write failed"),
            );
        },
      }),
      logger,
      write: (rows) =>
        persistIsolatingPoison(
          (items) => persistUsageBatch(db, items),
          rows,
          async (item, err) => {
            // No dead-letter store without Redis: the full entry goes to the error log.
            logger.error(
              { err, usage: encodeUsage(item) },
              "usage entry cannot be written; dropped to the log",
            );
          },
        ),
    });
  }

  async append(item: QueuedUsage): Promise<void> {
    this.writer.push(item);
  }

  async depth(): Promise<number> {
    return this.writer.pending + ((await this.spool?.depth()) ?? 0);
  }

  async flush(): Promise<void> {
    await this.writer.flush();
    await this.spool?.flush();
  }

  async close(): Promise<void> {
    const spool = this.spool;
    await this.writer.close({ quietIfPending: spool !== undefined });
    if (!spool) return;
    const left = this.writer.takePending();
    if (left.length > 0) {
      this.logger.warn(
        { rows: left.length },
        "Postgres unreachable at shutdown: usage kept in the local spool for the next start",
      );
      await Promise.all(left.map((item) => spool.append(item)));
    }
    await spool.close();
  }
}
