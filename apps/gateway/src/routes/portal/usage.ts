import { UsageQuery, type UsageResponse } from "@portal/contracts";
import { eq, organizations, plans } from "@portal/db";
import { type Context, Hono } from "hono";
import { ApiError } from "../../errors.js";
import { parseQuery } from "../../lib/validate.js";
import { billingOverview } from "../../services/portal/billing.js";
import { listKeys } from "../../services/portal/keys.js";
import { requireRole } from "../../services/portal/orgs.js";
import { dailyUsage, weeklyAllowance } from "../../services/portal/usage.js";
import { planView } from "../../services/portal/views.js";
import type { AppEnv } from "../../types.js";
import { orgActor } from "./shared.js";

async function orgPlan(c: Context<AppEnv>) {
  const ctx = orgActor(c);
  const db = c.get("services").db;
  await requireRole(db, ctx.userId, ctx.orgId);
  const [row] = await db
    .select({ plan: plans })
    .from(organizations)
    .innerJoin(plans, eq(plans.id, organizations.planId))
    .where(eq(organizations.id, ctx.orgId));
  if (!row) throw new ApiError("not_found", "No such organization.");
  return { ctx, db, plan: row.plan };
}

/** /portal/api/orgs/:orgId/{usage,billing,models}: what the console shows about an org. */
export const usageRoutes = new Hono<AppEnv>()
  .get("/usage", async (c) => {
    const query = parseQuery(c, UsageQuery);
    const { ctx, db, plan } = await orgPlan(c);
    const to = new Date();
    const from = new Date(
      Date.UTC(to.getUTCFullYear(), to.getUTCMonth(), to.getUTCDate() - (query.days - 1)),
    );
    const [days, keys, allowance] = await Promise.all([
      dailyUsage(db, ctx.orgId, from, to),
      listKeys(db, ctx.orgId),
      weeklyAllowance(db, ctx.orgId, plan.weeklyRequestAllowance, to),
    ]);
    const body: UsageResponse = {
      from: from.toISOString(),
      to: to.toISOString(),
      days,
      keys: keys.map((k) => ({ id: k.id, name: k.name, masked: k.masked })),
      allowance,
      plan: planView(plan),
    };
    return c.json(body);
  })
  .get("/billing", async (c) => {
    const { ctx, db, plan } = await orgPlan(c);
    const services = c.get("services");
    return c.json(
      await billingOverview(db, services.balance, {
        orgId: ctx.orgId,
        plan: planView(plan),
        creditPurchases: services.config.creditPurchases === true,
      }),
    );
  })
  .get("/models", async (c) => {
    const { ctx, plan } = await orgPlan(c);
    const models = await c.get("services").catalog.listAllowed(plan.id, ctx.orgId);
    return c.json({
      data: models.map((m) => ({
        alias: m.alias,
        display_name: m.displayName,
        context_length: m.contextLength,
        default_max_tokens: m.defaultMaxTokens,
        max_max_tokens: m.maxMaxTokens,
        input_price_micros: m.inputPriceMicros.toString(),
        output_price_micros: m.outputPriceMicros.toString(),
      })),
    });
  });
