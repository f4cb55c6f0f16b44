import { Hono } from "hono";
import { ApiError } from "../../errors.js";
import { operatorOnly, portalAuth } from "../../middleware/portal-auth.js";
import type { AppEnv } from "../../types.js";
import { portalOnError, smallBody, storableQuery } from "../portal/shared.js";
import { billingRoutes } from "./billing.js";
import { modelRoutes } from "./models.js";
import { orgRoutes } from "./orgs.js";
import { poolRoutes } from "./pools.js";
import { supportRoutes } from "./support.js";
import { userRoutes } from "./users.js";

/**
 * The operator API under /admin/api (users.is_operator only; others get 404). Every change is
 * audited in its transaction and then announced through `invalidation`, which reaches every
 * gateway instance over the Redis invalidation bus.
 */
export const adminApi = new Hono<AppEnv>()
  .use("*", smallBody, portalAuth, operatorOnly, storableQuery)
  .get("/me", (c) => {
    const user = c.get("portalUser");
    return c.json({ id: user?.id, email: user?.email, is_operator: true });
  })
  .route("/", orgRoutes)
  .route("/", userRoutes)
  .route("/", modelRoutes)
  .route("/", poolRoutes)
  .route("/", supportRoutes)
  .route("/", billingRoutes)
  .all("*", (c) => {
    throw new ApiError("not_found", `No route ${c.req.method} ${c.req.path}.`);
  })
  .onError(portalOnError);
