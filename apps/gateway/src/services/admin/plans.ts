import { asc, type Database, eq, plans } from "@portal/db";
import { type ActorContext, writeAudit } from "../portal/context.js";
import { ResourceNotFoundError } from "../portal/errors.js";
import { planView } from "../portal/views.js";

/** Every plan. */
export async function listPlans(db: Database) {
  const rows = await db.select().from(plans).orderBy(asc(plans.createdAt));
  return rows.map(planView);
}

export interface PlanInput {
  name?: string | undefined;
  requests_per_minute_key?: number | undefined;
  requests_per_minute_org?: number | undefined;
  tokens_per_minute_org?: number | undefined;
  max_concurrent_per_key?: number | undefined;
  weekly_request_allowance?: number | null | undefined;
}

/**
 * Edit a plan's name or limits. Every key of every org on the plan carries these limits in the
 * gateway's key cache, so the caller must invalidate all cached keys afterwards.
 */
export async function updatePlan(
  db: Database,
  ctx: ActorContext,
  planId: string,
  input: PlanInput,
) {
  const set = {
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(input.requests_per_minute_key !== undefined
      ? { requestsPerMinuteKey: input.requests_per_minute_key }
      : {}),
    ...(input.requests_per_minute_org !== undefined
      ? { requestsPerMinuteOrg: input.requests_per_minute_org }
      : {}),
    ...(input.tokens_per_minute_org !== undefined
      ? { tokensPerMinuteOrg: input.tokens_per_minute_org }
      : {}),
    ...(input.max_concurrent_per_key !== undefined
      ? { maxConcurrentPerKey: input.max_concurrent_per_key }
      : {}),
    ...(input.weekly_request_allowance !== undefined
      ? { weeklyRequestAllowance: input.weekly_request_allowance }
      : {}),
  };
  const row = await db.transaction(async (tx) => {
    const [before] = await tx.select().from(plans).where(eq(plans.id, planId)).limit(1);
    if (!before) throw new ResourceNotFoundError("plan");
    const [after] = await tx
      .update(plans)
      .set({ ...set, updatedAt: new Date() })
      .where(eq(plans.id, planId))
      .returning();
    if (!after) throw new ResourceNotFoundError("plan");
    await writeAudit(tx, ctx, {
      orgId: null,
      action: "plan.updated",
      targetType: "plan",
      targetId: planId,
      details: {
        slug: before.slug,
        changes: Object.fromEntries(
          Object.entries(set).map(([k, v]) => [k, { from: before[k as keyof typeof set], to: v }]),
        ),
      },
    });
    return after;
  });
  return planView(row);
}
