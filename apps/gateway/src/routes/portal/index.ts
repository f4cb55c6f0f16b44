import { Hono } from "hono";
import { ApiError } from "../../errors.js";
import { portalAuth } from "../../middleware/portal-auth.js";
import type { AppEnv } from "../../types.js";
import { authRoutes } from "./auth.js";
import { billingRoutes } from "./billing.js";
import { keyRoutes } from "./keys.js";
import { meRoutes } from "./me.js";
import { orgRoutes } from "./orgs.js";
import { playgroundRoutes } from "./playground.js";
import { portalOnError, smallBody, storableQuery } from "./shared.js";
import { usageRoutes } from "./usage.js";

/** The customer console's JSON API under /portal/api. Unknown paths are JSON 404s. */
export const portalApi = new Hono<AppEnv>()
  .use("*", smallBody, storableQuery)
  .route("/auth", authRoutes)
  // Everything but /auth needs a signed-in user ("/x/*" also matches "/x").
  .use("/me/*", portalAuth)
  .use("/orgs/*", portalAuth)
  .route("/me", meRoutes)
  .route("/orgs/:orgId/keys", keyRoutes)
  .route("/orgs/:orgId/billing", billingRoutes)
  .route("/orgs/:orgId", usageRoutes)
  .route("/orgs/:orgId", playgroundRoutes)
  .route("/orgs", orgRoutes)
  .all("*", (c) => {
    throw new ApiError("not_found", `No route ${c.req.method} ${c.req.path}.`);
  })
  .onError(portalOnError);
