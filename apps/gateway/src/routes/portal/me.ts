import {
  AcceptInvitationBody,
  ChangePasswordBody,
  type MeResponse,
  UpdateProfileBody,
} from "@portal/contracts";
import { eq, users } from "@portal/db";
import { type Context, Hono } from "hono";
import { ApiError } from "../../errors.js";
import { parseJsonBody } from "../../lib/validate.js";
import { writeAudit } from "../../services/portal/context.js";
import { acceptInvitation, listMemberships } from "../../services/portal/orgs.js";
import { userView } from "../../services/portal/views.js";
import type { AppEnv } from "../../types.js";
import { actor } from "./shared.js";

async function loadUser(c: Context<AppEnv>) {
  const user = c.get("portalUser");
  if (!user) throw new ApiError("unauthorized", "Sign in to continue.");
  const [row] = await c.get("services").db.select().from(users).where(eq(users.id, user.id));
  if (!row) throw new ApiError("unauthorized", "Sign in to continue.");
  return { user, row };
}

/** /portal/api/me: the signed-in user, their orgs, profile and password. */
export const meRoutes = new Hono<AppEnv>()
  .get("/", async (c) => {
    const { user, row } = await loadUser(c);
    const body: MeResponse = {
      user: userView(row),
      memberships: await listMemberships(c.get("services").db, user.id),
      csrf_token: user.sessionId ? c.get("services").auth.tokens.csrfToken(user.sessionId) : null,
    };
    return c.json(body);
  })
  .patch("/", async (c) => {
    const input = await parseJsonBody(c, UpdateProfileBody);
    const ctx = actor(c);
    const db = c.get("services").db;
    const row = await db.transaction(async (tx) => {
      const [updated] = await tx
        .update(users)
        .set({ name: input.name, updatedAt: new Date() })
        .where(eq(users.id, ctx.userId))
        .returning();
      await writeAudit(tx, ctx, {
        orgId: null,
        action: "user.profile_updated",
        targetType: "user",
        targetId: ctx.userId,
        details: { name: input.name },
      });
      return updated;
    });
    if (!row) throw new ApiError("unauthorized", "Sign in to continue.");
    return c.json({ user: userView(row) });
  })
  .post("/password", async (c) => {
    const input = await parseJsonBody(c, ChangePasswordBody);
    const user = c.get("portalUser");
    if (!user) throw new ApiError("unauthorized", "Sign in to continue.");
    await c
      .get("services")
      .auth.changePassword(
        user,
        { currentPassword: input.current_password, newPassword: input.new_password },
        c.get("requestId"),
      );
    return c.body(null, 204);
  })
  .post("/invitations/accept", async (c) => {
    const input = await parseJsonBody(c, AcceptInvitationBody);
    const user = c.get("portalUser");
    if (!user) throw new ApiError("unauthorized", "Sign in to continue.");
    const joined = await acceptInvitation(
      c.get("services").db,
      { ...actor(c), email: user.email },
      input.token,
    );
    return c.json(joined);
  });
