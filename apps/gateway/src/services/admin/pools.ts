import { newId } from "@portal/contracts";
import {
  and,
  asc,
  type Database,
  eq,
  models,
  type RouterTarget,
  routerPools,
  routerTargets,
} from "@portal/db";
import { type ActorContext, type Tx, writeAudit } from "../portal/context.js";
import { ConflictError, ResourceNotFoundError } from "../portal/errors.js";
import type { SecretBox } from "../secret-box.js";
import type { TargetHealthDetail } from "../upstream/target-health.js";

const isoOrNull = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : null);

/** This gateway's health evidence for one target, as the operator API shows it. */
export function healthView(h: TargetHealthDetail) {
  return {
    state: h.state,
    consecutive_failures: h.consecutiveFailures,
    circuit_open_until: isoOrNull(h.circuitOpenUntil),
    last_check: h.lastCheck
      ? {
          ok: h.lastCheck.ok,
          at: new Date(h.lastCheck.at).toISOString(),
          reason: h.lastCheck.reason ?? null,
        }
      : null,
  };
}

/** Throws ResourceNotFoundError unless the pool exists. */
export async function requirePool(tx: Tx | Database, poolId: string): Promise<void> {
  const [p] = await tx
    .select({ id: routerPools.id })
    .from(routerPools)
    .where(eq(routerPools.id, poolId))
    .limit(1);
  if (!p) throw new ResourceNotFoundError("pool");
}

/** A target as operators see it: never the router key, only whether one is set. */
function targetView(t: RouterTarget) {
  return {
    id: t.id,
    pool_id: t.poolId,
    url: t.url,
    session_id: t.sessionId,
    weight: t.weight,
    state: t.state,
    has_router_key: t.routerKeyCiphertext.length > 0,
    created_at: t.createdAt.toISOString(),
    updated_at: t.updatedAt.toISOString(),
  };
}

/**
 * Every pool with its targets and the aliases it serves; `healthOf` adds this gateway's live
 * view of each target (health checks and recent request outcomes).
 */
export async function listPools(db: Database, healthOf?: (targetId: string) => TargetHealthDetail) {
  const [pools, targets, modelRows] = await Promise.all([
    db.select().from(routerPools).orderBy(asc(routerPools.name)),
    // Ids are time-sortable and unique (created_at ties inside one transaction).
    db.select().from(routerTargets).orderBy(asc(routerTargets.id)),
    db.select({ alias: models.alias, poolId: models.poolId }).from(models),
  ]);
  return pools.map((p) => ({
    id: p.id,
    name: p.name,
    strategy: p.strategy,
    state: p.state,
    aliases: modelRows.filter((m) => m.poolId === p.id).map((m) => m.alias),
    targets: targets
      .filter((t) => t.poolId === p.id)
      .map((t) => {
        const h = healthOf?.(t.id);
        return {
          ...targetView(t),
          health: h?.state ?? null,
          health_detail: h ? healthView(h) : null,
        };
      }),
  }));
}

/** Create an empty pool. */
export async function createPool(db: Database, ctx: ActorContext, input: { name: string }) {
  const [taken] = await db
    .select({ id: routerPools.id })
    .from(routerPools)
    .where(eq(routerPools.name, input.name));
  if (taken) throw new ConflictError(`Pool '${input.name}' already exists.`);
  const id = newId("pool");
  await db.transaction(async (tx) => {
    await tx.insert(routerPools).values({ id, name: input.name });
    await writeAudit(tx, ctx, {
      orgId: null,
      action: "pool.created",
      targetType: "router_pool",
      targetId: id,
      details: { name: input.name },
    });
  });
  return { id, name: input.name, state: "active" as const };
}

/** Set a pool's state (active, draining, disabled). */
export async function updatePool(
  db: Database,
  ctx: ActorContext,
  poolId: string,
  input: { state: "active" | "draining" | "disabled" },
) {
  await db.transaction(async (tx) => {
    const rows = await tx
      .update(routerPools)
      .set({ state: input.state, updatedAt: new Date() })
      .where(eq(routerPools.id, poolId))
      .returning({ id: routerPools.id });
    if (rows.length === 0) throw new ResourceNotFoundError("pool");
    await writeAudit(tx, ctx, {
      orgId: null,
      action: "pool.updated",
      targetType: "router_pool",
      targetId: poolId,
      details: { state: input.state },
    });
  });
}

/** Add a router target (URL + session id + router key, sealed with the secret box). */
export async function addTarget(
  db: Database,
  secrets: SecretBox,
  ctx: ActorContext,
  poolId: string,
  input: { url: string; session_id: number; router_key: string; weight: number },
) {
  await requirePool(db, poolId);
  const url = input.url.replace(/\/+$/, "");
  const [dup] = await db
    .select({ id: routerTargets.id })
    .from(routerTargets)
    .where(
      and(
        eq(routerTargets.poolId, poolId),
        eq(routerTargets.url, url),
        eq(routerTargets.sessionId, input.session_id),
      ),
    );
  if (dup) throw new ConflictError("This router URL and session are already in the pool.");
  const id = newId("tgt");
  const row = await db.transaction(async (tx) => {
    const [t] = await tx
      .insert(routerTargets)
      .values({
        id,
        poolId,
        url,
        sessionId: input.session_id,
        routerKeyCiphertext: secrets.encrypt(input.router_key),
        weight: input.weight,
      })
      .returning();
    if (!t) throw new Error("target insert returned nothing");
    await writeAudit(tx, ctx, {
      orgId: null,
      action: "target.added",
      targetType: "router_target",
      targetId: id,
      details: { poolId, url, sessionId: input.session_id, weight: input.weight },
    });
    return t;
  });
  return targetView(row);
}

/** Change a target's weight or state (drain, disable, re-activate) or replace its key. */
export async function updateTarget(
  db: Database,
  secrets: SecretBox,
  ctx: ActorContext,
  targetId: string,
  input: {
    weight?: number | undefined;
    state?: "active" | "draining" | "disabled" | undefined;
    router_key?: string | undefined;
  },
) {
  const row = await db.transaction(async (tx) => {
    const [t] = await tx
      .update(routerTargets)
      .set({
        ...(input.weight !== undefined ? { weight: input.weight } : {}),
        ...(input.state !== undefined ? { state: input.state } : {}),
        ...(input.router_key !== undefined
          ? { routerKeyCiphertext: secrets.encrypt(input.router_key) }
          : {}),
        updatedAt: new Date(),
      })
      .where(eq(routerTargets.id, targetId))
      .returning();
    if (!t) throw new ResourceNotFoundError("target");
    await writeAudit(tx, ctx, {
      orgId: null,
      action: "target.updated",
      targetType: "router_target",
      targetId,
      details: {
        ...(input.weight !== undefined ? { weight: input.weight } : {}),
        ...(input.state !== undefined ? { state: input.state } : {}),
        ...(input.router_key !== undefined ? { routerKeyReplaced: true } : {}),
      },
    });
    return t;
  });
  return targetView(row);
}

/** Delete an empty pool; a pool that still serves a model alias is refused (move them first). */
export async function deletePool(db: Database, ctx: ActorContext, poolId: string): Promise<void> {
  await db.transaction(async (tx) => {
    const [pool] = await tx.select().from(routerPools).where(eq(routerPools.id, poolId)).limit(1);
    if (!pool) throw new ResourceNotFoundError("pool");
    const serving = await tx
      .select({ alias: models.alias })
      .from(models)
      .where(eq(models.poolId, poolId));
    if (serving.length > 0) {
      throw new ConflictError(
        `Pool '${pool.name}' still serves ${serving.map((m) => m.alias).join(", ")}; move or delete those models first.`,
      );
    }
    const removed = await tx
      .delete(routerTargets)
      .where(eq(routerTargets.poolId, poolId))
      .returning({ id: routerTargets.id });
    await tx.delete(routerPools).where(eq(routerPools.id, poolId));
    await writeAudit(tx, ctx, {
      orgId: null,
      action: "pool.deleted",
      targetType: "router_pool",
      targetId: poolId,
      details: { name: pool.name, targetsRemoved: removed.map((t) => t.id) },
    });
  });
}

/** Remove a router target from its pool (drain it first to let requests in flight finish). */
export async function deleteTarget(
  db: Database,
  ctx: ActorContext,
  targetId: string,
): Promise<void> {
  await db.transaction(async (tx) => {
    const [t] = await tx.delete(routerTargets).where(eq(routerTargets.id, targetId)).returning();
    if (!t) throw new ResourceNotFoundError("target");
    await writeAudit(tx, ctx, {
      orgId: null,
      action: "target.deleted",
      targetType: "router_target",
      targetId,
      details: { poolId: t.poolId, url: t.url, sessionId: t.sessionId, state: t.state },
    });
  });
}
