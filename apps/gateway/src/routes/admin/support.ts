import { AuditQuery } from "@portal/contracts";
import { Hono } from "hono";
import { ApiError } from "../../errors.js";
import { listAudit, lookupRequest } from "../../services/admin/lookup.js";
import type { AppEnv } from "../../types.js";
import { param } from "../portal/shared.js";

/** /admin/api/requests and /admin/api/audit: what support needs to explain a failure. */
export const supportRoutes = new Hono<AppEnv>()
  .get("/requests/:requestId", async (c) =>
    c.json(await lookupRequest(c.get("services").db, param(c, "requestId"))),
  )
  .get("/audit", async (c) => {
    const parsed = AuditQuery.safeParse(c.req.query());
    if (!parsed.success) throw new ApiError("invalid_request", "Bad audit query.");
    return c.json({
      data: await listAudit(c.get("services").db, {
        orgId: parsed.data.org_id,
        before: parsed.data.before,
        limit: parsed.data.limit,
      }),
    });
  });
