import { ReconciliationQuery } from "@portal/contracts";
import { Hono } from "hono";
import { ApiError } from "../../errors.js";
import { parseQuery } from "../../lib/validate.js";
import { reconciliationReport } from "../../services/billing/reconcile.js";
import { hourStart, rollupUsage } from "../../services/billing/rollup.js";
import type { AppEnv } from "../../types.js";
import { exportResponse, parseExportQuery, statementResponse } from "../billing/export-response.js";
import { param } from "../portal/shared.js";

const DAY_MS = 86_400_000;

/**
 * Operator billing: exports of one org or all orgs (`?org_id=` optional), any org's monthly
 * statement, the Stripe reconciliation report, and a rollup pass on demand.
 */
export const billingRoutes = new Hono<AppEnv>()
  .get("/billing/exports/:kind{usage|ledger}", async (c) => {
    const kind = c.req.param("kind") === "ledger" ? "ledger" : "usage";
    const { orgIdParam, ...input } = parseExportQuery(c, kind);
    return exportResponse(c.get("services").db, { ...input, orgId: orgIdParam });
  })
  .get("/orgs/:orgId/billing/statement", async (c) =>
    statementResponse(c, c.get("services").db, param(c, "orgId")),
  )
  .get("/billing/reconciliation", async (c) => {
    const q = parseQuery(c, ReconciliationQuery);
    // A named last day runs to its end; without one the report runs to now.
    const to = q.to ? new Date(Date.parse(`${q.to}T00:00:00Z`) + DAY_MS) : new Date();
    const from = q.from
      ? new Date(`${q.from}T00:00:00Z`)
      : new Date(to.getTime() - (q.to ? 3 : 2) * DAY_MS);
    if (from >= to) {
      throw new ApiError("invalid_request", "Invalid query: from: from must not be after today.", {
        issues: [{ path: "from", code: "custom", message: "from must not be after today" }],
      });
    }
    const report = await reconciliationReport(c.get("services").db, {
      from,
      to,
      orgId: q.org_id || undefined,
    });
    return c.json(report);
  })
  .post("/billing/rollup", async (c) => {
    const r = await rollupUsage(c.get("services").db, { before: hourStart(new Date()) });
    return c.json({
      ledger_entries: r.ledgerEntries,
      outbox_rows: r.outboxRows,
      charged_micros: r.chargedMicros.toString(),
      metered_micros: r.meteredMicros.toString(),
    });
  });
