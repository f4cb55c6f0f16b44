import { type Database, rowsOf, sql } from "@portal/db";

export type ReconcileStatus = "ok" | "pending" | "failed" | "mismatch";

export interface MeterReconcileRow {
  org_id: string;
  model: string;
  period_start: string;
  /** Postpaid usage served in the hour (micro-USD), and the part already rolled into the outbox. */
  usage_micros: string;
  rolled_micros: string;
  /** What the outbox holds for the hour, and by status. */
  outbox_micros: string;
  sent_micros: string;
  failed_micros: string;
  status: ReconcileStatus;
}

export interface LedgerReconcileRow {
  org_id: string;
  period_start: string;
  /** Prepaid charges on usage rows in the hour, the rolled part, and the ledger's usage_charge sum. */
  charged_micros: string;
  rolled_micros: string;
  ledger_micros: string;
  status: ReconcileStatus;
}

export interface ReconciliationReport {
  from: string;
  to: string;
  /** Postpaid: our usage vs the meter events in the outbox vs what Stripe acknowledged. */
  meter: MeterReconcileRow[];
  /** Prepaid: usage charges on the rows vs the hourly ledger entries. */
  ledger: LedgerReconcileRow[];
  totals: {
    usage_micros: string;
    sent_micros: string;
    charged_micros: string;
    ledger_micros: string;
    problems: number;
  };
}

/**
 * Compare our books with what left the building, hour by hour, over [from, to): `mismatch` means
 * the rolled-up amount differs from the billing rows (a bug — never expected), `failed` that
 * Stripe refused a meter event, `pending` that rollup or sending is still to happen.
 */
export async function reconciliationReport(
  db: Database,
  input: { from: Date; to: Date; orgId?: string | undefined },
): Promise<ReconciliationReport> {
  const from = input.from.toISOString();
  const to = input.to.toISOString();
  const orgFilter = (col: string) =>
    input.orgId ? sql`AND ${sql.raw(col)} = ${input.orgId}` : sql``;
  const meter = rowsOf<Omit<MeterReconcileRow, "status">>(
    await db.execute(sql`
      WITH u AS (
        SELECT org_id, model_alias AS model,
          to_timestamp(floor(extract(epoch FROM created_at) / 3600) * 3600) AS period_start,
          sum(cost_micros) AS usage_micros,
          coalesce(sum(cost_micros) FILTER (WHERE billed_entry_id IS NOT NULL), 0) AS rolled_micros
        FROM usage_events
        WHERE billing_mode = 'postpaid' AND charge_micros = 0 AND cost_micros > 0
          AND status <> 'failed' AND created_at >= ${from}::timestamptz
          AND created_at < ${to}::timestamptz ${orgFilter("org_id")}
        GROUP BY 1, 2, 3),
      o AS (
        SELECT org_id, model_alias AS model, period_start, sum(value_micros) AS outbox_micros,
          coalesce(sum(value_micros) FILTER (WHERE status = 'sent'), 0) AS sent_micros,
          coalesce(sum(value_micros) FILTER (WHERE status = 'failed'), 0) AS failed_micros
        FROM stripe_outbox
        WHERE period_start >= ${from}::timestamptz AND period_start < ${to}::timestamptz
          ${orgFilter("org_id")}
        GROUP BY 1, 2, 3)
      SELECT coalesce(u.org_id, o.org_id) AS org_id, coalesce(u.model, o.model) AS model,
        to_json(coalesce(u.period_start, o.period_start)) #>> '{}' AS period_start,
        coalesce(u.usage_micros, 0)::text AS usage_micros,
        coalesce(u.rolled_micros, 0)::text AS rolled_micros,
        coalesce(o.outbox_micros, 0)::text AS outbox_micros,
        coalesce(o.sent_micros, 0)::text AS sent_micros,
        coalesce(o.failed_micros, 0)::text AS failed_micros
      FROM u FULL JOIN o
        ON o.org_id = u.org_id AND o.model = u.model AND o.period_start = u.period_start
      ORDER BY 3, 1, 2`),
  ).map((r) => ({ ...r, status: meterStatus(r) }));
  const ledger = rowsOf<Omit<LedgerReconcileRow, "status">>(
    await db.execute(sql`
      WITH u AS (
        SELECT org_id,
          to_timestamp(floor(extract(epoch FROM created_at) / 3600) * 3600) AS period_start,
          sum(charge_micros) AS charged_micros,
          coalesce(sum(charge_micros) FILTER (WHERE billed_entry_id IS NOT NULL), 0)
            AS rolled_micros
        FROM usage_events
        WHERE charge_micros > 0 AND created_at >= ${from}::timestamptz
          AND created_at < ${to}::timestamptz ${orgFilter("org_id")}
        GROUP BY 1, 2),
      l AS (
        SELECT org_id, period_start, -sum(amount_micros) AS ledger_micros
        FROM billing_ledger
        WHERE kind = 'usage_charge' AND period_start >= ${from}::timestamptz
          AND period_start < ${to}::timestamptz ${orgFilter("org_id")}
        GROUP BY 1, 2)
      SELECT coalesce(u.org_id, l.org_id) AS org_id,
        to_json(coalesce(u.period_start, l.period_start)) #>> '{}' AS period_start,
        coalesce(u.charged_micros, 0)::text AS charged_micros,
        coalesce(u.rolled_micros, 0)::text AS rolled_micros,
        coalesce(l.ledger_micros, 0)::text AS ledger_micros
      FROM u FULL JOIN l ON l.org_id = u.org_id AND l.period_start = u.period_start
      ORDER BY 2, 1`),
  ).map((r) => ({
    ...r,
    status: (r.rolled_micros !== r.ledger_micros
      ? "mismatch"
      : r.rolled_micros !== r.charged_micros
        ? "pending"
        : "ok") as ReconcileStatus,
  }));
  const sum = (xs: string[]) => xs.reduce((s, x) => s + BigInt(x), 0n).toString();
  return {
    from,
    to,
    meter,
    ledger,
    totals: {
      usage_micros: sum(meter.map((m) => m.usage_micros)),
      sent_micros: sum(meter.map((m) => m.sent_micros)),
      charged_micros: sum(ledger.map((l) => l.charged_micros)),
      ledger_micros: sum(ledger.map((l) => l.ledger_micros)),
      problems: [...meter, ...ledger].filter(
        (r) => r.status === "mismatch" || r.status === "failed",
      ).length,
    },
  };
}

function meterStatus(r: Omit<MeterReconcileRow, "status">): ReconcileStatus {
  if (r.rolled_micros !== r.outbox_micros) return "mismatch";
  if (r.failed_micros !== "0") return "failed";
  if (r.sent_micros !== r.usage_micros) return "pending";
  return "ok";
}
