import { createHash } from "node:crypto";
import { newId } from "@portal/contracts";
import { billingLedger, type Database, rowsOf, sql, stripeOutbox } from "@portal/db";

const HOUR_MS = 3_600_000;

type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];

export interface RollupResult {
  /** usage_charge ledger entries written (prepaid). */
  ledgerEntries: number;
  /** stripe_outbox rows written (postpaid). */
  outboxRows: number;
  chargedMicros: bigint;
  meteredMicros: bigint;
}

/** Start of the UTC hour holding `at`. */
export function hourStart(at: Date): Date {
  return new Date(Math.floor(at.getTime() / HOUR_MS) * HOUR_MS);
}

/** `usage:<org>:<hour ISO>` for an hour's first rollup, `…#<n>` for the n-th (late events). */
export function usageChargeReference(orgId: string, hour: Date, n: number): string {
  const base = `usage:${orgId}:${hour.toISOString()}`;
  return n <= 1 ? base : `${base}#${n}`;
}

/**
 * Deterministic Stripe meter event identifier for (org, model, hour, seq). Stripe deduplicates
 * on it for at least 24 h and it is also the Idempotency-Key, so a resend after a crash (sent,
 * not yet marked) is absorbed. Long aliases are hashed to stay well inside Stripe's limits.
 */
export function meterIdentifier(orgId: string, model: string, hour: Date, seq: number): string {
  const plain = `portal:${orgId}:${hour.toISOString().slice(0, 13)}:${seq}:${model}`;
  if (plain.length <= 100 && /^[\w:.-]+$/.test(plain)) return plain;
  return `portal:${createHash("sha256").update(plain).digest("hex").slice(0, 48)}`;
}

// The predicate of usage_events_unbilled_idx, written identically so the planner uses the index:
// rows charged to a prepaid balance, and served postpaid rows with a cost, not rolled up yet.
const UNBILLED = sql`billed_entry_id IS NULL AND (charge_micros > 0 OR (billing_mode = 'postpaid' AND cost_micros > 0 AND status <> 'failed'))`;

/**
 * Roll usage rows created before `before` (the start of the current hour in the job: closed hours
 * only) into billing rows, one transaction per group:
 * - prepaid (org, hour): one negative `usage_charge` ledger entry for the sum of `charge_micros`;
 * - postpaid (org, model, hour): one `stripe_outbox` row for the sum of `cost_micros`.
 * Each transaction marks the rows it covers (`billed_entry_id`) with `… WHERE billed_entry_id IS
 * NULL`, so the amount is exactly what it marked: a concurrent run on another instance blocks on
 * the row locks, then finds them marked and writes nothing; a late event (a replayed spool, a
 * lagging writer) becomes a delta entry (`…#2`) for its hour. Re-running never double-charges.
 * A per-group advisory lock serializes the "how many entries does this hour have" count.
 */
export async function rollupUsage(
  db: Database,
  opts: { before: Date; groupLimit?: number; orgId?: string | undefined },
): Promise<RollupResult> {
  const out: RollupResult = {
    ledgerEntries: 0,
    outboxRows: 0,
    chargedMicros: 0n,
    meteredMicros: 0n,
  };
  const limit = opts.groupLimit ?? 500;
  for (;;) {
    const groups = rowsOf<{ org_id: string; hour: string; model: string | null }>(
      await db.execute(sql`
        SELECT org_id, (floor(extract(epoch FROM created_at) / 3600))::bigint::text AS hour,
          CASE WHEN charge_micros > 0 THEN NULL ELSE model_alias END AS model
        FROM usage_events
        WHERE ${UNBILLED} AND created_at < ${opts.before.toISOString()}::timestamptz
          ${opts.orgId ? sql`AND org_id = ${opts.orgId}` : sql``}
          -- Usage of an org deleted by hand has nowhere to be billed (foreign keys): it stays
          -- unbilled instead of failing every run.
          AND EXISTS (SELECT 1 FROM organizations o WHERE o.id = usage_events.org_id)
        GROUP BY 1, 2, 3 ORDER BY 2, 1, 3 LIMIT ${limit}`),
    );
    for (const g of groups) {
      const hour = new Date(Number(g.hour) * HOUR_MS);
      const end = new Date(Math.min(hour.getTime() + HOUR_MS, opts.before.getTime()));
      if (g.model === null) {
        const charged = await db.transaction((tx) => chargeHour(tx, g.org_id, hour, end));
        if (charged > 0n) {
          out.ledgerEntries += 1;
          out.chargedMicros += charged;
        }
      } else {
        const model = g.model;
        const metered = await db.transaction((tx) => meterHour(tx, g.org_id, model, hour, end));
        if (metered > 0n) {
          out.outboxRows += 1;
          out.meteredMicros += metered;
        }
      }
    }
    if (groups.length < limit) return out;
  }
}

async function lockGroup(tx: Tx, key: string): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${key}))`);
}

async function chargeHour(tx: Tx, orgId: string, hour: Date, end: Date): Promise<bigint> {
  await lockGroup(tx, `portal_rollup:${orgId}:${hour.toISOString()}`);
  const id = newId("led");
  const [marked] = rowsOf<{ total: string; n: number }>(
    await tx.execute(sql`
      WITH marked AS (
        UPDATE usage_events SET billed_entry_id = ${id}
        WHERE org_id = ${orgId} AND created_at >= ${hour.toISOString()}::timestamptz
          AND created_at < ${end.toISOString()}::timestamptz
          AND charge_micros > 0 AND billed_entry_id IS NULL
        RETURNING charge_micros)
      SELECT coalesce(sum(charge_micros), 0)::text AS total, count(*)::int AS n FROM marked`),
  );
  const total = BigInt(marked?.total ?? "0");
  if (!marked || marked.n === 0) return 0n;
  const [existing] = rowsOf<{ n: number }>(
    await tx.execute(sql`
      SELECT count(*)::int AS n FROM billing_ledger
      WHERE org_id = ${orgId} AND kind = 'usage_charge'
        AND period_start = ${hour.toISOString()}::timestamptz`),
  );
  await tx.insert(billingLedger).values({
    id,
    orgId,
    kind: "usage_charge",
    amountMicros: -total,
    reference: usageChargeReference(orgId, hour, (existing?.n ?? 0) + 1),
    periodStart: hour,
  });
  return total;
}

async function meterHour(
  tx: Tx,
  orgId: string,
  model: string,
  hour: Date,
  end: Date,
): Promise<bigint> {
  await lockGroup(tx, `portal_meter:${orgId}:${model}:${hour.toISOString()}`);
  const id = newId("mtr");
  const [marked] = rowsOf<{ total: string; n: number }>(
    await tx.execute(sql`
      WITH marked AS (
        UPDATE usage_events SET billed_entry_id = ${id}
        WHERE org_id = ${orgId} AND model_alias = ${model}
          AND created_at >= ${hour.toISOString()}::timestamptz
          AND created_at < ${end.toISOString()}::timestamptz
          AND billed_entry_id IS NULL AND charge_micros = 0 AND billing_mode = 'postpaid'
          AND cost_micros > 0 AND status <> 'failed'
        RETURNING cost_micros)
      SELECT coalesce(sum(cost_micros), 0)::text AS total, count(*)::int AS n FROM marked`),
  );
  const total = BigInt(marked?.total ?? "0");
  if (!marked || marked.n === 0) return 0n;
  const [existing] = rowsOf<{ n: number }>(
    await tx.execute(sql`
      SELECT count(*)::int AS n FROM stripe_outbox
      WHERE org_id = ${orgId} AND model_alias = ${model}
        AND period_start = ${hour.toISOString()}::timestamptz`),
  );
  const seq = existing?.n ?? 0;
  await tx.insert(stripeOutbox).values({
    id,
    orgId,
    modelAlias: model,
    periodStart: hour,
    seq,
    valueMicros: total,
    identifier: meterIdentifier(orgId, model, hour, seq),
  });
  return total;
}
