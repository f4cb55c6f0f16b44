import type { Database } from "@portal/db";
import type { Logger } from "pino";
import { BatchWriter } from "./batch-writer.js";
import { encodeUsage, persistUsageBatch, type QueuedUsage } from "./persist.js";
import { persistIsolatingPoison } from "./poison.js";
import type { UsageSink } from "./sink.js";

/** Usage without Redis: the in-process batch queue, flushed on an interval and at shutdown. */
export class MemoryUsageSink implements UsageSink {
  private readonly writer: BatchWriter<QueuedUsage>;

  constructor(db: Database, logger: Logger, intervalMs: number) {
    this.writer = new BatchWriter<QueuedUsage>({
      name: "usage_events",
      intervalMs,
      maxBatch: 500,
      maxBuffered: 200_000,
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
    return this.writer.pending;
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }

  close(): Promise<void> {
    return this.writer.close();
  }
}
