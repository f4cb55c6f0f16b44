import { Hono } from "hono";
import { ApiError } from "../../errors.js";
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
    const to = c.req.query("to") ? new Date(`${c.req.query("to")}T00:00:00Z`) : new Date();
    const from = c.req.query("from")
      ? new Date(`${c.req.query("from")}T00:00:00Z`)
      : new Date(to.getTime() - 2 * DAY_MS);
    if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || from > to) {
      throw new ApiError("invalid_request", "Expected ?from=YYYY-MM-DD&to=YYYY-MM-DD.");
    }
    const report = await reconciliationReport(c.get("services").db, {
      from,
      to: c.req.query("to") ? new Date(to.getTime() + DAY_MS) : to,
      orgId: c.req.query("org_id") || undefined,
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
