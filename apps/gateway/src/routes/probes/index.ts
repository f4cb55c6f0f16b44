import { Hono } from "hono";
import type { AppEnv } from "../../types.js";
import { livezRoute } from "./livez.js";
import { readyzRoute } from "./readyz.js";

/** Unauthenticated orchestration probes: `/livez` (process) and `/readyz` (can take traffic). */
export const probeRoutes = new Hono<AppEnv>()
  .route("/livez", livezRoute)
  .route("/readyz", readyzRoute);
