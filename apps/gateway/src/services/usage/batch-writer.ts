import type { Logger } from "pino";

export interface BatchWriterOptions<T> {
  name: string;
  /** Persist one batch; must be idempotent (rows carry their own unique key). */
  write: (rows: T[]) => Promise<void>;
  intervalMs: number;
  maxBatch: number;
  /** Rows held in memory at most while the database is unreachable. */
  maxBuffered: number;
  /** Where the oldest row goes when the buffer is full (default: dropped, logged). */
  onOverflow?: (row: T) => void;
  logger: Logger;
}

/**
 * Collects rows off the hot path and writes them in batches. A failed write keeps its rows for
 * the next attempt; `close()` flushes what is left (graceful shutdown).
 */
export class BatchWriter<T> {
  private buffer: T[] = [];
  private flushing: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;
  private dropped = 0;

  constructor(private readonly opts: BatchWriterOptions<T>) {
    this.timer = setInterval(() => void this.flush(), opts.intervalMs);
    this.timer.unref();
  }

  /** Queue a row; never blocks, never throws. */
  push(row: T): void {
    if (this.buffer.length >= this.opts.maxBuffered) {
      const oldest = this.buffer.shift() as T;
      if (this.opts.onOverflow) {
        this.opts.onOverflow(oldest);
      } else {
        // Memory is the hard limit of an in-process queue; say so loudly rather than grow forever.
        this.dropped++;
        this.opts.logger.error(
          { writer: this.opts.name, dropped: this.dropped },
          "buffer full, dropped oldest row",
        );
      }
    }
    this.buffer.push(row);
    if (this.buffer.length >= this.opts.maxBatch) void this.flush();
  }

  get pending(): number {
    return this.buffer.length;
  }

  /** Write everything buffered now (waits for an in-progress flush first). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.buffer.length === 0) return;
    this.flushing = this.flushOnce().finally(() => {
      this.flushing = null;
    });
    await this.flushing;
  }

  /** Remove and return every buffered row (after close: what could not be written). */
  takePending(): T[] {
    return this.buffer.splice(0, this.buffer.length);
  }

  /** Stop the timer and flush until empty or the database keeps failing. */
  async close(opts: { quietIfPending?: boolean } = {}): Promise<void> {
    clearInterval(this.timer);
    for (let attempt = 0; attempt < 5 && this.buffer.length > 0; attempt++) {
      await this.flush();
    }
    if (this.buffer.length > 0 && !opts.quietIfPending) {
      this.opts.logger.error(
        { writer: this.opts.name, rows: this.buffer.length },
        "rows not written at shutdown",
      );
    }
  }

  private async flushOnce(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.slice(0, this.opts.maxBatch);
      try {
        await this.opts.write(batch);
      } catch (err) {
        this.opts.logger.warn(
          { err, writer: this.opts.name, rows: batch.length },
          "batch write failed; will retry",
        );
        return;
      }
      this.buffer.splice(0, batch.length);
    }
  }
}
