import { type Database, eq, rowsOf, sql, stripeOutbox } from "@portal/db";
import type { Logger } from "pino";
import { ensureStripeCustomer } from "./payments.js";
import { PaymentProviderError, type PaymentsClient } from "./stripe-client.js";

const DAY_MS = 86_400_000;
/** Stripe refuses meter event timestamps older than 35 days; keep an hour of margin. */
const MAX_EVENT_AGE_MS = 35 * DAY_MS - 3_600_000;

export interface MeterSenderOptions {
  db: Database;
  client: PaymentsClient;
  eventName: string;
  logger: Logger;
  now?: () => Date;
  /** [0, 1) source for the jitter (tests pass a fixed one). */
  random?: () => number;
  /** First retry delay; doubles per attempt up to `maxDelayMs` (defaults 2 s, 1 h). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** A claimed row is invisible to other senders this long (a crashed sender's rows come back). */
  leaseMs?: number;
  /** Orgs per pass, rows per org per pass, orgs sent to in parallel. */
  orgsPerPass?: number;
  rowsPerOrg?: number;
  concurrency?: number;
  /** Only this org's rows (tests, an operator retrying one customer). */
  orgId?: string | undefined;
}

export interface SendResult {
  sent: number;
  retried: number;
  failed: number;
}

type ClaimedRow = {
  id: string;
  org_id: string;
  model_alias: string;
  period_start: string;
  value_micros: string;
  identifier: string;
  attempts: number;
};

/**
 * Delay before retry number `attempts` (1-based): exponential, capped, with "equal jitter"
 * (half fixed, half random) so senders on many instances spread out after a shared 429 while
 * still always waiting at least half the step.
 */
export function retryDelayMs(
  attempts: number,
  random: () => number,
  baseMs = 2_000,
  maxMs = 3_600_000,
): number {
  const step = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

/**
 * One pass of the meter outbox: send due rows to Stripe, in (hour, model, seq) order per org and
 * one call at a time per org (Stripe allows one concurrent call per customer and meter), several
 * orgs in parallel. Runs in the background job only — customer requests never wait on Stripe.
 * Rows are claimed by pushing `next_attempt_at` out by a lease in one UPDATE … FOR UPDATE SKIP
 * LOCKED, so instances share the work without sending a row twice at once; a resend after a
 * crash is absorbed by Stripe (same identifier, same Idempotency-Key). 429, 5xx and network
 * errors are retried with backoff and jitter (and the org's remaining rows wait with them);
 * any other refusal marks the row failed for an operator (the reconciliation report lists it).
 */
export async function sendDueMeterEvents(opts: MeterSenderOptions): Promise<SendResult> {
  const now = opts.now ?? (() => new Date());
  const result: SendResult = { sent: 0, retried: 0, failed: 0 };
  const orgs = rowsOf<{ org_id: string }>(
    await opts.db.execute(sql`
      SELECT DISTINCT org_id FROM stripe_outbox
      WHERE status = 'pending' AND next_attempt_at <= ${now().toISOString()}::timestamptz
        ${opts.orgId ? sql`AND org_id = ${opts.orgId}` : sql``}
      LIMIT ${opts.orgsPerPass ?? 50}`),
  ).map((r) => r.org_id);
  const queue = [...orgs];
  const workers = Array.from(
    { length: Math.min(opts.concurrency ?? 4, queue.length) },
    async () => {
      for (let org = queue.shift(); org !== undefined; org = queue.shift()) {
        try {
          await sendOrg(opts, org, now, result);
        } catch (err) {
          opts.logger.warn({ err, orgId: org }, "meter outbox: org pass failed; will retry");
        }
      }
    },
  );
  await Promise.all(workers);
  return result;
}

async function sendOrg(
  opts: MeterSenderOptions,
  orgId: string,
  now: () => Date,
  result: SendResult,
): Promise<void> {
  const { db } = opts;
  const leaseUntil = new Date(now().getTime() + (opts.leaseMs ?? 60_000));
  const claimed = rowsOf<ClaimedRow>(
    await db.execute(sql`
      UPDATE stripe_outbox SET next_attempt_at = ${leaseUntil.toISOString()}::timestamptz,
        updated_at = now()
      WHERE id IN (
        SELECT id FROM stripe_outbox
        WHERE org_id = ${orgId} AND status = 'pending'
          AND next_attempt_at <= ${now().toISOString()}::timestamptz
        ORDER BY period_start, model_alias, seq LIMIT ${opts.rowsPerOrg ?? 100}
        FOR UPDATE SKIP LOCKED)
      RETURNING id, org_id, model_alias, (extract(epoch FROM period_start) * 1000)::bigint::text
        AS period_start, value_micros::text, identifier, attempts`),
  ).sort(
    (a, b) =>
      Number(a.period_start) - Number(b.period_start) ||
      a.model_alias.localeCompare(b.model_alias) ||
      a.identifier.localeCompare(b.identifier),
  );
  if (claimed.length === 0) return;
  let customerId: string;
  try {
    customerId = await ensureStripeCustomer(db, opts.client, orgId);
  } catch (err) {
    await retryLater(opts, claimed, err, now, result);
    return;
  }
  for (let i = 0; i < claimed.length; i++) {
    const row = claimed[i] as ClaimedRow;
    const at = Number(row.period_start);
    if (now().getTime() - at > MAX_EVENT_AGE_MS) {
      await markFailed(db, row, "older than Stripe's 35-day meter event window");
      result.failed += 1;
      continue;
    }
    try {
      await opts.client.sendMeterEvent(
        {
          eventName: opts.eventName,
          customerId,
          value: BigInt(row.value_micros),
          identifier: row.identifier,
          timestamp: Math.floor(at / 1000),
        },
        `meter:${row.identifier}`,
      );
      await db
        .update(stripeOutbox)
        .set({
          status: "sent",
          sentAt: now(),
          attempts: row.attempts + 1,
          lastError: null,
          updatedAt: now(),
        })
        .where(eq(stripeOutbox.id, row.id));
      result.sent += 1;
    } catch (err) {
      if (err instanceof PaymentProviderError && !err.retryable) {
        await markFailed(
          db,
          row,
          `${err.statusCode ?? ""} ${err.code ?? ""} ${err.message}`.trim(),
        );
        result.failed += 1;
        continue;
      }
      // Rate limited or Stripe/network trouble: this row and the org's rest wait together, so
      // they stay in order and we stop knocking on a door that just said "slow down".
      await retryLater(opts, claimed.slice(i), err, now, result);
      return;
    }
  }
}

async function retryLater(
  opts: MeterSenderOptions,
  rows: ClaimedRow[],
  err: unknown,
  now: () => Date,
  result: SendResult,
): Promise<void> {
  const message = err instanceof Error ? err.message : String(err);
  for (const row of rows) {
    const attempts = row.attempts + 1;
    const delay = retryDelayMs(
      attempts,
      opts.random ?? Math.random,
      opts.baseDelayMs,
      opts.maxDelayMs,
    );
    await opts.db
      .update(stripeOutbox)
      .set({
        attempts,
        nextAttemptAt: new Date(now().getTime() + delay),
        lastError: message.slice(0, 500),
        updatedAt: now(),
      })
      .where(eq(stripeOutbox.id, row.id));
    result.retried += 1;
  }
  opts.logger.warn(
    { err: message, orgId: rows[0]?.org_id, rows: rows.length },
    "meter events deferred; will retry with backoff",
  );
}

async function markFailed(db: Database, row: ClaimedRow, reason: string): Promise<void> {
  await db
    .update(stripeOutbox)
    .set({
      status: "failed",
      attempts: row.attempts + 1,
      lastError: reason.slice(0, 500),
      updatedAt: new Date(),
    })
    .where(eq(stripeOutbox.id, row.id));
}
