import { newId } from "@portal/contracts";
import {
  and,
  asc,
  type Database,
  eq,
  type Model,
  modelAccess,
  models,
  organizations,
  plans,
} from "@portal/db";
import { type ActorContext, writeAudit } from "../portal/context.js";
import { ConflictError, ResourceNotFoundError, RuleViolationError } from "../portal/errors.js";
import { requirePool } from "./pools.js";

function modelView(m: Model) {
  return {
    id: m.id,
    alias: m.alias,
    pool_id: m.poolId,
    display_name: m.displayName,
    owned_by: m.ownedBy,
    prompt_template: m.promptTemplate,
    context_length: m.contextLength,
    default_max_tokens: m.defaultMaxTokens,
    max_max_tokens: m.maxMaxTokens,
    input_price_micros: m.inputPriceMicros.toString(),
    output_price_micros: m.outputPriceMicros.toString(),
    visibility: m.visibility,
    state: m.state,
    created_at: m.createdAt.toISOString(),
    updated_at: m.updatedAt.toISOString(),
  };
}

/** Every model with its access rules. */
export async function listModels(db: Database) {
  const [rows, rules] = await Promise.all([
    db.select().from(models).orderBy(asc(models.alias)),
    db.select().from(modelAccess),
  ]);
  return rows.map((m) => ({
    ...modelView(m),
    access: rules
      .filter((r) => r.modelId === m.id)
      .map((r) => ({ id: r.id, plan_id: r.planId, org_id: r.orgId, allowed: r.allowed })),
  }));
}

function checkTokens(m: { defaultMaxTokens: number; maxMaxTokens: number; contextLength: number }) {
  if (m.defaultMaxTokens > m.maxMaxTokens) {
    throw new RuleViolationError("default_max_tokens cannot exceed max_max_tokens.");
  }
  if (m.maxMaxTokens > m.contextLength) {
    throw new RuleViolationError("max_max_tokens cannot exceed context_length.");
  }
}

export interface ModelInput {
  alias: string;
  pool_id: string;
  display_name: string;
  owned_by: string;
  prompt_template: string;
  context_length: number;
  default_max_tokens: number;
  max_max_tokens: number;
  input_price_micros: bigint;
  output_price_micros: bigint;
  visibility: "public" | "restricted";
}

/** Add a model alias over a pool. */
export async function createModel(db: Database, ctx: ActorContext, input: ModelInput) {
  checkTokens({
    defaultMaxTokens: input.default_max_tokens,
    maxMaxTokens: input.max_max_tokens,
    contextLength: input.context_length,
  });
  await requirePool(db, input.pool_id);
  const [taken] = await db
    .select({ id: models.id })
    .from(models)
    .where(eq(models.alias, input.alias))
    .limit(1);
  if (taken) throw new ConflictError(`Model alias '${input.alias}' is already in use.`);
  const id = newId("mdl");
  const row = await db.transaction(async (tx) => {
    const [m] = await tx
      .insert(models)
      .values({
        id,
        alias: input.alias,
        poolId: input.pool_id,
        displayName: input.display_name,
        ownedBy: input.owned_by,
        promptTemplate: input.prompt_template,
        contextLength: input.context_length,
        defaultMaxTokens: input.default_max_tokens,
        maxMaxTokens: input.max_max_tokens,
        inputPriceMicros: input.input_price_micros,
        outputPriceMicros: input.output_price_micros,
        visibility: input.visibility,
      })
      .returning();
    if (!m) throw new Error("model insert returned nothing");
    await writeAudit(tx, ctx, {
      orgId: null,
      action: "model.created",
      targetType: "model",
      targetId: id,
      details: { alias: input.alias, poolId: input.pool_id },
    });
    return m;
  });
  return modelView(row);
}

/** Edit a model: prices, template, limits, pool, visibility or state. */
export async function updateModel(
  db: Database,
  ctx: ActorContext,
  modelId: string,
  input: Partial<Omit<ModelInput, "alias" | "owned_by">> & { state?: "active" | "disabled" },
) {
  const [m] = await db.select().from(models).where(eq(models.id, modelId)).limit(1);
  if (!m) throw new ResourceNotFoundError("model");
  const next = {
    ...(input.pool_id !== undefined ? { poolId: input.pool_id } : {}),
    ...(input.display_name !== undefined ? { displayName: input.display_name } : {}),
    ...(input.prompt_template !== undefined ? { promptTemplate: input.prompt_template } : {}),
    ...(input.context_length !== undefined ? { contextLength: input.context_length } : {}),
    ...(input.default_max_tokens !== undefined
      ? { defaultMaxTokens: input.default_max_tokens }
      : {}),
    ...(input.max_max_tokens !== undefined ? { maxMaxTokens: input.max_max_tokens } : {}),
    ...(input.input_price_micros !== undefined
      ? { inputPriceMicros: input.input_price_micros }
      : {}),
    ...(input.output_price_micros !== undefined
      ? { outputPriceMicros: input.output_price_micros }
      : {}),
    ...(input.visibility !== undefined ? { visibility: input.visibility } : {}),
    ...(input.state !== undefined ? { state: input.state } : {}),
  };
  checkTokens({ ...m, ...next });
  if (next.poolId) await requirePool(db, next.poolId);
  const row = await db.transaction(async (tx) => {
    const [updated] = await tx
      .update(models)
      .set({ ...next, updatedAt: new Date() })
      .where(eq(models.id, modelId))
      .returning();
    if (!updated) throw new ResourceNotFoundError("model");
    await writeAudit(tx, ctx, {
      orgId: null,
      action: "model.updated",
      targetType: "model",
      targetId: modelId,
      details: Object.fromEntries(
        Object.entries(next).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : v]),
      ),
    });
    return updated;
  });
  return modelView(row);
}

/** Allow or deny a model for a plan or an org (replaces an existing rule of that scope). */
export async function setModelAccess(
  db: Database,
  ctx: ActorContext,
  modelId: string,
  input: { plan_id?: string | undefined; org_id?: string | undefined; allowed: boolean },
) {
  const [m] = await db.select({ id: models.id }).from(models).where(eq(models.id, modelId));
  if (!m) throw new ResourceNotFoundError("model");
  const planId = input.plan_id ?? null;
  const orgId = input.org_id ?? null;
  // A rule for a plan or org that does not exist is a 404 naming it, not a foreign-key failure.
  if (planId !== null) {
    const [plan] = await db.select({ id: plans.id }).from(plans).where(eq(plans.id, planId));
    if (!plan) throw new ResourceNotFoundError("plan");
  }
  if (orgId !== null) {
    const [org] = await db
      .select({ id: organizations.id })
      .from(organizations)
      .where(eq(organizations.id, orgId));
    if (!org) throw new ResourceNotFoundError("organization");
  }
  return db.transaction(async (tx) => {
    const [rule] = await tx
      .insert(modelAccess)
      .values({ id: newId("mdl"), modelId, planId, orgId, allowed: input.allowed })
      .onConflictDoUpdate({
        target: [modelAccess.modelId, modelAccess.planId, modelAccess.orgId],
        set: { allowed: input.allowed },
      })
      .returning();
    if (!rule) throw new Error("access upsert returned nothing");
    await writeAudit(tx, ctx, {
      orgId,
      action: "model.access_set",
      targetType: "model",
      targetId: modelId,
      details: { planId, orgId, allowed: input.allowed },
    });
    return { id: rule.id, plan_id: rule.planId, org_id: rule.orgId, allowed: rule.allowed };
  });
}

/** Remove an access rule (the model's visibility default applies again). */
export async function deleteModelAccess(
  db: Database,
  ctx: ActorContext,
  modelId: string,
  ruleId: string,
) {
  await db.transaction(async (tx) => {
    const rows = await tx
      .delete(modelAccess)
      .where(and(eq(modelAccess.id, ruleId), eq(modelAccess.modelId, modelId)))
      .returning();
    const rule = rows[0];
    if (!rule) throw new ResourceNotFoundError("access rule");
    await writeAudit(tx, ctx, {
      orgId: rule.orgId,
      action: "model.access_removed",
      targetType: "model",
      targetId: modelId,
      details: { planId: rule.planId, orgId: rule.orgId, allowed: rule.allowed },
    });
  });
}
