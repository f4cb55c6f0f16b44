import {
  apiKeys,
  asc,
  type Database,
  desc,
  eq,
  memberships,
  or,
  organizations,
  plans,
  sql,
  users,
} from "@portal/db";
import { type ActorContext, writeAudit } from "../portal/context.js";
import { ResourceNotFoundError } from "../portal/errors.js";
import { listKeys } from "../portal/keys.js";
import { orgView } from "../portal/views.js";

/** Orgs, newest first, optionally filtered by name/slug/id substring or a member's email. */
export async function listOrgs(db: Database, q: string | undefined, limit = 100) {
  const pattern = q ? `%${q.replace(/[%_\\]/g, "\\$&")}%` : undefined;
  const rows = await db
    .select({
      org: organizations,
      plan: plans,
      members: sql<string>`(select count(*) from memberships m where m.org_id = ${organizations.id})`,
      keys: sql<string>`(select count(*) from api_keys k where k.org_id = ${organizations.id} and k.revoked_at is null)`,
    })
    .from(organizations)
    .innerJoin(plans, eq(plans.id, organizations.planId))
    .where(
      pattern
        ? or(
            sql`${organizations.name} ilike ${pattern}`,
            sql`${organizations.slug} ilike ${pattern}`,
            sql`${organizations.id} ilike ${pattern}`,
            sql`exists (select 1 from memberships m join users u on u.id = m.user_id where m.org_id = ${organizations.id} and u.email ilike ${pattern})`,
          )
        : undefined,
    )
    .orderBy(desc(organizations.createdAt))
    .limit(limit);
  return rows.map((r) => ({
    ...orgView(r.org, r.plan),
    member_count: Number(r.members),
    active_key_count: Number(r.keys),
  }));
}

/** One org with members and keys. */
export async function getOrgDetail(db: Database, orgId: string) {
  const [row] = await db
    .select({ org: organizations, plan: plans })
    .from(organizations)
    .innerJoin(plans, eq(plans.id, organizations.planId))
    .where(eq(organizations.id, orgId))
    .limit(1);
  if (!row) throw new ResourceNotFoundError("organization");
  const members = await db
    .select({ id: memberships.id, role: memberships.role, email: users.email, userId: users.id })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(eq(memberships.orgId, orgId))
    .orderBy(asc(memberships.createdAt));
  return {
    org: orgView(row.org, row.plan),
    members: members.map((m) => ({ id: m.id, user_id: m.userId, email: m.email, role: m.role })),
    keys: await listKeys(db, orgId),
  };
}

async function keyHashesOf(db: Database, orgId: string): Promise<string[]> {
  const rows = await db
    .select({ hash: apiKeys.keyHash })
    .from(apiKeys)
    .where(eq(apiKeys.orgId, orgId));
  return rows.map((r) => r.hash);
}

/** Disable or re-enable an org; returns its key hashes so caches can drop them. */
export async function setOrgStatus(
  db: Database,
  ctx: ActorContext,
  orgId: string,
  input: { disabled: boolean; reason?: string },
): Promise<string[]> {
  await db.transaction(async (tx) => {
    const rows = await tx
      .update(organizations)
      .set({
        status: input.disabled ? "disabled" : "active",
        disabledReason: input.disabled ? (input.reason ?? null) : null,
        updatedAt: new Date(),
      })
      .where(eq(organizations.id, orgId))
      .returning({ id: organizations.id });
    if (rows.length === 0) throw new ResourceNotFoundError("organization");
    await writeAudit(tx, ctx, {
      orgId,
      action: input.disabled ? "org.disabled" : "org.enabled",
      targetType: "organization",
      targetId: orgId,
      details: input.reason ? { reason: input.reason } : {},
    });
  });
  return keyHashesOf(db, orgId);
}

/** Move an org to another plan (by slug); returns its key hashes. */
export async function changeOrgPlan(
  db: Database,
  ctx: ActorContext,
  orgId: string,
  planSlug: string,
): Promise<string[]> {
  const [plan] = await db.select().from(plans).where(eq(plans.slug, planSlug)).limit(1);
  if (!plan) throw new ResourceNotFoundError("plan");
  await db.transaction(async (tx) => {
    const [before] = await tx
      .select({ planId: organizations.planId })
      .from(organizations)
      .where(eq(organizations.id, orgId))
      .limit(1);
    if (!before) throw new ResourceNotFoundError("organization");
    await tx
      .update(organizations)
      .set({ planId: plan.id, updatedAt: new Date() })
      .where(eq(organizations.id, orgId));
    await writeAudit(tx, ctx, {
      orgId,
      action: "org.plan_changed",
      targetType: "organization",
      targetId: orgId,
      details: { fromPlanId: before.planId, toPlanId: plan.id, toPlan: plan.slug },
    });
  });
  return keyHashesOf(db, orgId);
}
