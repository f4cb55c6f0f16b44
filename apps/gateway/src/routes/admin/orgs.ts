import {
  DisableOrgBody,
  KeysQuery,
  OrgSearchQuery,
  SetDisabledBody,
  UpdateAdminOrgBody,
} from "@portal/contracts";
import { Hono } from "hono";
import { parseJsonBody, parseQuery } from "../../lib/validate.js";
import { listAllKeys, setKeyDisabled } from "../../services/admin/keys.js";
import { changeOrgPlan, getOrgDetail, listOrgs, setOrgStatus } from "../../services/admin/orgs.js";
import { invalidation } from "../../services/portal/invalidation.js";
import type { AppEnv } from "../../types.js";
import { actor, param } from "../portal/shared.js";

/** /admin/api/orgs and /admin/api/keys: find orgs, disable/enable, change plan, disable keys. */
export const orgRoutes = new Hono<AppEnv>()
  .get("/orgs", async (c) =>
    c.json({
      data: await listOrgs(c.get("services").db, parseQuery(c, OrgSearchQuery).q || undefined),
    }),
  )
  .get("/orgs/:orgId", async (c) =>
    c.json(await getOrgDetail(c.get("services").db, param(c, "orgId"))),
  )
  .post("/orgs/:orgId/disable", async (c) => {
    const input = await parseJsonBody(c, DisableOrgBody);
    const services = c.get("services");
    const orgId = param(c, "orgId");
    const hashes = await setOrgStatus(services.db, actor(c, "operator"), orgId, {
      disabled: true,
      reason: input.reason,
    });
    invalidation.keysChanged(services, hashes);
    return c.json(await getOrgDetail(services.db, orgId));
  })
  .post("/orgs/:orgId/enable", async (c) => {
    const services = c.get("services");
    const orgId = param(c, "orgId");
    const hashes = await setOrgStatus(services.db, actor(c, "operator"), orgId, {
      disabled: false,
    });
    invalidation.keysChanged(services, hashes);
    return c.json(await getOrgDetail(services.db, orgId));
  })
  .patch("/orgs/:orgId", async (c) => {
    const input = await parseJsonBody(c, UpdateAdminOrgBody);
    const services = c.get("services");
    const orgId = param(c, "orgId");
    const hashes = await changeOrgPlan(services.db, actor(c, "operator"), orgId, input.plan);
    invalidation.keysChanged(services, hashes);
    return c.json(await getOrgDetail(services.db, orgId));
  })
  .get("/keys", async (c) =>
    c.json({
      data: await listAllKeys(c.get("services").db, parseQuery(c, KeysQuery).org_id || undefined),
    }),
  )
  .post("/keys/:keyId/disabled", async (c) => {
    const input = await parseJsonBody(c, SetDisabledBody);
    const services = c.get("services");
    const { key, hash } = await setKeyDisabled(
      services.db,
      actor(c, "operator"),
      param(c, "keyId"),
      input.disabled,
    );
    invalidation.keysChanged(services, [hash]);
    return c.json(key);
  });
