import type { Database } from "@portal/db";
import type { Logger } from "pino";
import { type SendResult, sendDueMeterEvents } from "./meter-outbox.js";
import type { PaymentsConfig } from "./payments.js";
import { hourStart, type RollupResult, rollupUsage } from "./rollup.js";

export interface BillingJobOptions {
  db: Database;
  logger: Logger;
  /** Unset: no Stripe; the rollup still runs and postpaid outbox rows wait, pending. */
  payments?: PaymentsConfig | undefined;
  /** Default one minute (late events of a closed hour are charged within a minute). */
  intervalMs?: number;
}

/**
 * The periodic billing pass of every gateway instance: roll closed hours of usage into ledger
 * entries and outbox rows, then send due meter events. Safe on many instances at once without a
 * global lock: the rollup marks the rows it bills under row locks (a second instance finds them
 * marked and writes nothing), and the sender claims outbox rows with a lease (SKIP LOCKED).
 * Never on the request path: a slow or failing Stripe only delays this loop.
 */
export class BillingJob {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(private readonly opts: BillingJobOptions) {}

  start(): void {
    if (this.timer) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.opts.intervalMs ?? 60_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => {});
  }

  /** One pass (tests and operators): rollup of closed hours, then the outbox. */
  async runOnce(now = new Date()): Promise<{ rollup: RollupResult; meter: SendResult | null }> {
    const rollup = await rollupUsage(this.opts.db, { before: hourStart(now) });
    const p = this.opts.payments;
    const meter = p
      ? await sendDueMeterEvents({
          db: this.opts.db,
          client: p.client,
          eventName: p.meterEventName,
          logger: this.opts.logger,
        })
      : null;
    return { rollup, meter };
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.runOnce()
      .then((r) => {
        if (r.rollup.ledgerEntries + r.rollup.outboxRows > 0 || (r.meter && r.meter.sent > 0)) {
          this.opts.logger.info(
            {
              ledgerEntries: r.rollup.ledgerEntries,
              outboxRows: r.rollup.outboxRows,
              meter: r.meter,
            },
            "billing rollup",
          );
        }
      })
      .catch((err) => this.opts.logger.warn({ err }, "billing job failed; will retry"))
      .finally(() => {
        this.running = null;
      });
  }
}
