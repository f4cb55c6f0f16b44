import {
  type Database,
  dropPartitionsBefore,
  ensurePartitions,
  partitionStart,
  rowsOf,
  sql,
  upcomingPeriods,
} from "@portal/db";
import type { Logger } from "pino";

/** Any fixed 64-bit number; one instance at a time runs the job. */
const PARTITION_JOB_LOCK_ID = 727_002_2026;
const DAY_MS = 86_400_000;

export interface PartitionJobOptions {
  db: Database;
  logger: Logger;
  /** request_logs days older than this are dropped (whole partitions). */
  requestLogRetentionDays: number;
  /** How often the job runs (default hourly; it also runs at start). */
  intervalMs?: number;
}

export interface PartitionJobResult {
  /** False when another instance held the lock (nothing done here). */
  ran: boolean;
  ensured: string[];
  dropped: string[];
}

/**
 * Keeps the time partitions ahead of the clock and drops expired request_logs days. Runs on every
 * gateway instance but does the work on one at a time: a transaction-scoped advisory lock (taken
 * with try, so others skip instead of queueing) wraps the DDL. usage_events partitions are never
 * dropped (billing history); usage_daily is kept current by the usage writer in the same
 * transaction as each insert, so no rollup pass is needed here.
 */
export class PartitionJob {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(private readonly opts: PartitionJobOptions) {}

  /** Run once now, then on the interval. */
  start(): void {
    if (this.timer) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.opts.intervalMs ?? 3_600_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => {});
  }

  /** One pass (exported for tests and operators): ensure ahead, drop expired. */
  async runOnce(now = new Date()): Promise<PartitionJobResult> {
    const { db } = this.opts;
    return db.transaction(async (tx) => {
      const lock = await tx.execute(
        sql`SELECT pg_try_advisory_xact_lock(${PARTITION_JOB_LOCK_ID}) AS locked`,
      );
      const [row] = rowsOf<{ locked: boolean }>(lock);
      if (row?.locked !== true) return { ran: false, ensured: [], dropped: [] };
      const txDb = tx as unknown as Database;
      const ensured = [
        ...(await ensurePartitions(txDb, "usage_events", upcomingPeriods("usage_events", now))),
        ...(await ensurePartitions(txDb, "request_logs", upcomingPeriods("request_logs", now))),
      ];
      // Keep `retention` whole days before today: a partition goes once its day has fully aged out.
      const today = partitionStart("day", now);
      const cutoff = new Date(today.getTime() - this.opts.requestLogRetentionDays * DAY_MS);
      const dropped = await dropPartitionsBefore(txDb, "request_logs", cutoff);
      return { ran: true, ensured, dropped };
    });
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.runOnce()
      .then((r) => {
        if (r.dropped.length > 0) {
          this.opts.logger.info({ dropped: r.dropped }, "dropped expired request_logs partitions");
        }
      })
      .catch((err) => this.opts.logger.warn({ err }, "partition maintenance failed; will retry"))
      .finally(() => {
        this.running = null;
      });
  }
}
