import {
  CreateInvitationBody,
  CreateOrgBody,
  UpdateMemberBody,
  UpdateOrgBody,
} from "@portal/contracts";
import { Hono } from "hono";
import { parseJsonBody } from "../../lib/validate.js";
import {
  changeMemberRole,
  createInvitation,
  createOrg,
  getOrg,
  listInvitations,
  listMembers,
  listMemberships,
  removeMember,
  renameOrg,
  revokeInvitation,
} from "../../services/portal/orgs.js";
import type { AppEnv } from "../../types.js";
import { actor, orgActor, param } from "./shared.js";

/** /portal/api/orgs: the caller's orgs, members and invitations. */
export const orgRoutes = new Hono<AppEnv>()
  .get("/", async (c) =>
    c.json({ data: await listMemberships(c.get("services").db, actor(c).userId) }),
  )
  .post("/", async (c) => {
    const input = await parseJsonBody(c, CreateOrgBody);
    return c.json(await createOrg(c.get("services").db, actor(c), input), 201);
  })
  .get("/:orgId", async (c) => c.json(await getOrg(c.get("services").db, orgActor(c))))
  .patch("/:orgId", async (c) => {
    const input = await parseJsonBody(c, UpdateOrgBody);
    return c.json(await renameOrg(c.get("services").db, orgActor(c), input));
  })
  .get("/:orgId/members", async (c) =>
    c.json({ data: await listMembers(c.get("services").db, orgActor(c)) }),
  )
  .patch("/:orgId/members/:memberId", async (c) => {
    const input = await parseJsonBody(c, UpdateMemberBody);
    const db = c.get("services").db;
    await changeMemberRole(db, orgActor(c), param(c, "memberId"), input.role);
    return c.json({ data: await listMembers(db, orgActor(c)) });
  })
  .delete("/:orgId/members/:memberId", async (c) => {
    await removeMember(c.get("services").db, orgActor(c), param(c, "memberId"));
    return c.body(null, 204);
  })
  .get("/:orgId/invitations", async (c) =>
    c.json({ data: await listInvitations(c.get("services").db, orgActor(c)) }),
  )
  .post("/:orgId/invitations", async (c) => {
    const input = await parseJsonBody(c, CreateInvitationBody);
    return c.json(await createInvitation(c.get("services").db, orgActor(c), input), 201);
  })
  .delete("/:orgId/invitations/:invitationId", async (c) => {
    await revokeInvitation(c.get("services").db, orgActor(c), param(c, "invitationId"));
    return c.body(null, 204);
  });
