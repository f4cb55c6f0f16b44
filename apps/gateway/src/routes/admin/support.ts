import { AuditQuery } from "@portal/contracts";
import { Hono } from "hono";
import { parseQuery } from "../../lib/validate.js";
import { listAudit, lookupRequest } from "../../services/admin/lookup.js";
import type { AppEnv } from "../../types.js";
import { param } from "../portal/shared.js";

/** /admin/api/requests and /admin/api/audit: what support needs to explain a failure. */
export const supportRoutes = new Hono<AppEnv>()
  .get("/requests/:requestId", async (c) =>
    c.json(await lookupRequest(c.get("services").db, param(c, "requestId"))),
  )
  .get("/audit", async (c) => {
    const q = parseQuery(c, AuditQuery);
    return c.json({
      data: await listAudit(c.get("services").db, {
        orgId: q.org_id,
        before: q.before,
        limit: q.limit,
      }),
    });
  });
