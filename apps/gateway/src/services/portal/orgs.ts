import { createHash, randomBytes } from "node:crypto";
import type { MemberRole, MembershipView } from "@portal/contracts";
import { newId } from "@portal/contracts";
import {
  and,
  asc,
  type Database,
  eq,
  gt,
  invitations,
  isNull,
  memberships,
  organizations,
  plans,
  users,
} from "@portal/db";
import { ensurePlans } from "../bootstrap.js";
import { type ActorContext, iso, type OrgContext, writeAudit } from "./context.js";
import {
  ConflictError,
  PermissionDeniedError,
  ResourceNotFoundError,
  RuleViolationError,
} from "./errors.js";
import { orgView } from "./views.js";

const INVITATION_TTL_MS = 7 * 86_400_000;

/**
 * The caller's role in an org. Not a member (or no such org) is a 404, so org ids of other
 * tenants cannot be probed; a member without the needed role gets a permission error.
 */
export async function requireRole(
  db: Database,
  userId: string,
  orgId: string,
  allowed: readonly MemberRole[] = ["owner", "admin", "member"],
): Promise<MemberRole> {
  const [row] = await db
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.orgId, orgId), eq(memberships.userId, userId)))
    .limit(1);
  if (!row) throw new ResourceNotFoundError("organization");
  if (!allowed.includes(row.role)) {
    throw new PermissionDeniedError(
      `Your role (${row.role}) cannot do this; ask an ${allowed.join(" or ")} of the organization.`,
    );
  }
  return row.role;
}

/** Every org the user belongs to, with their role. */
export async function listMemberships(db: Database, userId: string): Promise<MembershipView[]> {
  const rows = await db
    .select({ org: organizations, plan: plans, role: memberships.role })
    .from(memberships)
    .innerJoin(organizations, eq(organizations.id, memberships.orgId))
    .innerJoin(plans, eq(plans.id, organizations.planId))
    .where(eq(memberships.userId, userId))
    .orderBy(asc(memberships.createdAt));
  return rows.map((r) => ({ org: orgView(r.org, r.plan), role: r.role }));
}

/** One org the caller belongs to. */
export async function getOrg(db: Database, ctx: OrgContext): Promise<MembershipView> {
  const role = await requireRole(db, ctx.userId, ctx.orgId);
  const [row] = await db
    .select({ org: organizations, plan: plans })
    .from(organizations)
    .innerJoin(plans, eq(plans.id, organizations.planId))
    .where(eq(organizations.id, ctx.orgId))
    .limit(1);
  if (!row) throw new ResourceNotFoundError("organization");
  return { org: orgView(row.org, row.plan), role };
}

/** A new org on the free plan with the caller as owner. */
export async function createOrg(
  db: Database,
  ctx: ActorContext,
  input: { name: string },
): Promise<MembershipView> {
  const freePlanId = (await ensurePlans(db)).get("free");
  if (!freePlanId) throw new Error("free plan missing");
  const orgId = newId("org");
  await db.transaction(async (tx) => {
    await tx.insert(organizations).values({
      id: orgId,
      name: input.name,
      slug: orgId.toLowerCase().replace("_", "-"),
      planId: freePlanId,
    });
    await tx
      .insert(memberships)
      .values({ id: newId("mem"), orgId, userId: ctx.userId, role: "owner" });
    await writeAudit(tx, ctx, {
      orgId,
      action: "org.created",
      targetType: "organization",
      targetId: orgId,
      details: { name: input.name },
    });
  });
  return getOrg(db, { ...ctx, orgId });
}

/** Rename an org (owner or admin). */
export async function renameOrg(
  db: Database,
  ctx: OrgContext,
  input: { name: string },
): Promise<MembershipView> {
  await requireRole(db, ctx.userId, ctx.orgId, ["owner", "admin"]);
  await db.transaction(async (tx) => {
    await tx
      .update(organizations)
      .set({ name: input.name, updatedAt: new Date() })
      .where(eq(organizations.id, ctx.orgId));
    await writeAudit(tx, ctx, {
      orgId: ctx.orgId,
      action: "org.renamed",
      targetType: "organization",
      targetId: ctx.orgId,
      details: { name: input.name },
    });
  });
  return getOrg(db, ctx);
}

export interface MemberView {
  id: string;
  user_id: string;
  email: string;
  name: string | null;
  role: MemberRole;
  created_at: string;
}

/** Members of an org (any member may look). */
export async function listMembers(db: Database, ctx: OrgContext): Promise<MemberView[]> {
  await requireRole(db, ctx.userId, ctx.orgId);
  const rows = await db
    .select({ m: memberships, u: users })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(eq(memberships.orgId, ctx.orgId))
    .orderBy(asc(memberships.createdAt));
  return rows.map(({ m, u }) => ({
    id: m.id,
    user_id: u.id,
    email: u.email,
    name: u.name,
    role: m.role,
    created_at: m.createdAt.toISOString(),
  }));
}

async function ownerCount(db: Database, orgId: string): Promise<number> {
  const rows = await db
    .select({ id: memberships.id })
    .from(memberships)
    .where(and(eq(memberships.orgId, orgId), eq(memberships.role, "owner")));
  return rows.length;
}

async function findMember(db: Database, orgId: string, memberId: string) {
  const [m] = await db
    .select()
    .from(memberships)
    .where(and(eq(memberships.id, memberId), eq(memberships.orgId, orgId)))
    .limit(1);
  if (!m) throw new ResourceNotFoundError("member");
  return m;
}

/** Change a member's role (owners only); the last owner cannot be demoted. */
export async function changeMemberRole(
  db: Database,
  ctx: OrgContext,
  memberId: string,
  role: MemberRole,
): Promise<void> {
  await requireRole(db, ctx.userId, ctx.orgId, ["owner"]);
  const m = await findMember(db, ctx.orgId, memberId);
  if (m.role === "owner" && role !== "owner" && (await ownerCount(db, ctx.orgId)) <= 1) {
    throw new RuleViolationError("An organization needs at least one owner.");
  }
  await db.transaction(async (tx) => {
    await tx.update(memberships).set({ role }).where(eq(memberships.id, m.id));
    await writeAudit(tx, ctx, {
      orgId: ctx.orgId,
      action: "member.role_changed",
      targetType: "membership",
      targetId: m.id,
      details: { from: m.role, to: role, userId: m.userId },
    });
  });
}

/** Remove a member (owner/admin; admins cannot remove owners; anyone may leave). */
export async function removeMember(db: Database, ctx: OrgContext, memberId: string): Promise<void> {
  const m = await findMember(db, ctx.orgId, memberId);
  const self = m.userId === ctx.userId;
  const role = await requireRole(db, ctx.userId, ctx.orgId, self ? undefined : ["owner", "admin"]);
  if (!self && m.role === "owner" && role !== "owner") {
    throw new PermissionDeniedError("Only an owner can remove another owner.");
  }
  if (m.role === "owner" && (await ownerCount(db, ctx.orgId)) <= 1) {
    throw new RuleViolationError("An organization needs at least one owner.");
  }
  await db.transaction(async (tx) => {
    await tx.delete(memberships).where(eq(memberships.id, m.id));
    await writeAudit(tx, ctx, {
      orgId: ctx.orgId,
      action: "member.removed",
      targetType: "membership",
      targetId: m.id,
      details: { userId: m.userId, role: m.role },
    });
  });
}

export interface InvitationView {
  id: string;
  email: string;
  role: MemberRole;
  created_at: string;
  expires_at: string;
  accepted_at: string | null;
}

function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Pending invitations of an org (owner/admin). */
export async function listInvitations(db: Database, ctx: OrgContext): Promise<InvitationView[]> {
  await requireRole(db, ctx.userId, ctx.orgId, ["owner", "admin"]);
  const rows = await db
    .select()
    .from(invitations)
    .where(
      and(
        eq(invitations.orgId, ctx.orgId),
        isNull(invitations.revokedAt),
        isNull(invitations.acceptedAt),
        gt(invitations.expiresAt, new Date()),
      ),
    )
    .orderBy(asc(invitations.createdAt));
  return rows.map((i) => ({
    id: i.id,
    email: i.email,
    role: i.role,
    created_at: i.createdAt.toISOString(),
    expires_at: i.expiresAt.toISOString(),
    accepted_at: iso(i.acceptedAt),
  }));
}

/**
 * Invite an email (owner/admin; only owners may invite owners). The token is returned once for
 * the inviter to pass on — Portal sends no email yet.
 */
export async function createInvitation(
  db: Database,
  ctx: OrgContext,
  input: { email: string; role: MemberRole },
): Promise<{ invitation: InvitationView; token: string }> {
  const role = await requireRole(db, ctx.userId, ctx.orgId, ["owner", "admin"]);
  if (input.role === "owner" && role !== "owner") {
    throw new PermissionDeniedError("Only an owner can invite another owner.");
  }
  const existing = await db
    .select({ id: memberships.id })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.orgId, ctx.orgId), eq(users.email, input.email)))
    .limit(1);
  if (existing.length > 0) throw new ConflictError("This person is already a member.");
  const token = `inv_${randomBytes(24).toString("base64url")}`;
  const id = newId("inv");
  const expiresAt = new Date(Date.now() + INVITATION_TTL_MS);
  await db.transaction(async (tx) => {
    await tx.insert(invitations).values({
      id,
      orgId: ctx.orgId,
      email: input.email,
      role: input.role,
      tokenHash: hashToken(token),
      invitedBy: ctx.userId,
      expiresAt,
    });
    await writeAudit(tx, ctx, {
      orgId: ctx.orgId,
      action: "invitation.created",
      targetType: "invitation",
      targetId: id,
      details: { email: input.email, role: input.role },
    });
  });
  return {
    token,
    invitation: {
      id,
      email: input.email,
      role: input.role,
      created_at: new Date().toISOString(),
      expires_at: expiresAt.toISOString(),
      accepted_at: null,
    },
  };
}

/** Withdraw a pending invitation (owner/admin). */
export async function revokeInvitation(db: Database, ctx: OrgContext, id: string): Promise<void> {
  await requireRole(db, ctx.userId, ctx.orgId, ["owner", "admin"]);
  await db.transaction(async (tx) => {
    const rows = await tx
      .update(invitations)
      .set({ revokedAt: new Date() })
      .where(
        and(
          eq(invitations.id, id),
          eq(invitations.orgId, ctx.orgId),
          isNull(invitations.revokedAt),
          isNull(invitations.acceptedAt),
        ),
      )
      .returning({ id: invitations.id });
    if (rows.length === 0) throw new ResourceNotFoundError("invitation");
    await writeAudit(tx, ctx, {
      orgId: ctx.orgId,
      action: "invitation.revoked",
      targetType: "invitation",
      targetId: id,
    });
  });
}

/** Accept an invitation addressed to the signed-in user's email; returns the org joined. */
export async function acceptInvitation(
  db: Database,
  ctx: ActorContext & { email: string },
  token: string,
): Promise<MembershipView> {
  const [inv] = await db
    .select()
    .from(invitations)
    .where(eq(invitations.tokenHash, hashToken(token)))
    .limit(1);
  // Someone else's invitation looks exactly like a missing one.
  if (
    !inv ||
    inv.email !== ctx.email.toLowerCase() ||
    inv.revokedAt ||
    inv.acceptedAt ||
    inv.expiresAt.getTime() <= Date.now()
  ) {
    throw new ResourceNotFoundError("invitation");
  }
  await db.transaction(async (tx) => {
    const claimed = await tx
      .update(invitations)
      .set({ acceptedAt: new Date() })
      .where(and(eq(invitations.id, inv.id), isNull(invitations.acceptedAt)))
      .returning({ id: invitations.id });
    if (claimed.length === 0) throw new ResourceNotFoundError("invitation");
    const joined = await tx
      .insert(memberships)
      .values({ id: newId("mem"), orgId: inv.orgId, userId: ctx.userId, role: inv.role })
      .onConflictDoNothing()
      .returning({ id: memberships.id });
    // Already a member (a second invitation): refused, and the invitation stays open, rather
    // than consumed while the role silently stays what it was. Roles change through the
    // members API.
    if (joined.length === 0) {
      throw new ConflictError(
        "You are already a member of this organization; an owner or admin can change your role.",
      );
    }
    await writeAudit(tx, ctx, {
      orgId: inv.orgId,
      action: "invitation.accepted",
      targetType: "invitation",
      targetId: inv.id,
      details: { role: inv.role },
    });
  });
  return getOrg(db, { ...ctx, orgId: inv.orgId });
}
