import {
  and,
  type Database,
  desc,
  eq,
  isNull,
  memberships,
  or,
  organizations,
  portalSessions,
  sql,
  type User,
  users,
} from "@portal/db";
import { type ActorContext, iso, writeAudit } from "../portal/context.js";
import { ResourceNotFoundError, RuleViolationError } from "../portal/errors.js";

function userAdminView(u: User, orgs: Array<{ id: string; name: string; role: string }>) {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    status: u.status,
    is_operator: u.isOperator,
    has_password: u.passwordHash !== null,
    has_identity_provider: u.authSubject !== null,
    orgs,
    created_at: u.createdAt.toISOString(),
    updated_at: iso(u.updatedAt),
  };
}

async function orgsOf(db: Database, userIds: string[]) {
  if (userIds.length === 0)
    return new Map<string, Array<{ id: string; name: string; role: string }>>();
  const rows = await db
    .select({
      userId: memberships.userId,
      id: organizations.id,
      name: organizations.name,
      role: memberships.role,
    })
    .from(memberships)
    .innerJoin(organizations, eq(organizations.id, memberships.orgId))
    .where(sql`${memberships.userId} in ${userIds}`);
  const byUser = new Map<string, Array<{ id: string; name: string; role: string }>>();
  for (const r of rows) {
    const list = byUser.get(r.userId) ?? [];
    list.push({ id: r.id, name: r.name, role: r.role });
    byUser.set(r.userId, list);
  }
  return byUser;
}

/** Users, newest first, optionally filtered by email, name or id substring. */
export async function listUsers(db: Database, q: string | undefined, limit: number) {
  const pattern = q ? `%${q.replace(/[%_\\]/g, "\\$&")}%` : undefined;
  const rows = await db
    .select()
    .from(users)
    .where(
      pattern
        ? or(
            sql`${users.email} ilike ${pattern}`,
            sql`${users.name} ilike ${pattern}`,
            sql`${users.id} ilike ${pattern}`,
          )
        : undefined,
    )
    .orderBy(desc(users.createdAt))
    .limit(limit);
  const orgs = await orgsOf(
    db,
    rows.map((u) => u.id),
  );
  return rows.map((u) => userAdminView(u, orgs.get(u.id) ?? []));
}

/**
 * Disable or re-enable a user's console access (disabling also ends their sessions at once), or
 * grant or revoke the operator role. Operators cannot disable or demote themselves, so the
 * console can never lock out the last person able to undo it by accident.
 */
export async function updateUser(
  db: Database,
  ctx: ActorContext,
  userId: string,
  input: { status?: "active" | "disabled" | undefined; is_operator?: boolean | undefined },
) {
  if (userId === ctx.userId && (input.status === "disabled" || input.is_operator === false)) {
    throw new RuleViolationError("You cannot disable or demote yourself; ask another operator.");
  }
  const row = await db.transaction(async (tx) => {
    const [u] = await tx
      .update(users)
      .set({
        ...(input.status !== undefined ? { status: input.status } : {}),
        ...(input.is_operator !== undefined ? { isOperator: input.is_operator } : {}),
        updatedAt: new Date(),
      })
      .where(eq(users.id, userId))
      .returning();
    if (!u) throw new ResourceNotFoundError("user");
    if (input.status === "disabled") {
      await tx
        .update(portalSessions)
        .set({ revokedAt: new Date() })
        .where(and(eq(portalSessions.userId, userId), isNull(portalSessions.revokedAt)));
    }
    await writeAudit(tx, ctx, {
      orgId: null,
      action: "user.updated",
      targetType: "user",
      targetId: userId,
      details: {
        ...(input.status !== undefined ? { status: input.status } : {}),
        ...(input.is_operator !== undefined ? { isOperator: input.is_operator } : {}),
      },
    });
    return u;
  });
  const orgs = await orgsOf(db, [row.id]);
  return userAdminView(row, orgs.get(row.id) ?? []);
}
