import { RouterFactcheckRequest } from "@portal/contracts";
import { type Context, Hono } from "hono";
import { factcheck, factcheckSession } from "../core/factcheck/service.js";
import { type Access, KEY_ACCESS } from "../http/access.js";
import type { RouterEnv } from "../http/env.js";
import { readJsonBody, validate } from "../http/input.js";

/** The factcheck handler under one access policy (key, trial or x402). */
export function factcheckHandler(access: Access = KEY_ACCESS) {
  return async (c: Context<RouterEnv>): Promise<Response> => {
    const core = c.get("core");
    const req = validate(RouterFactcheckRequest, await readJsonBody(c), "factcheck request");
    const session = factcheckSession(core, req.mode, access.fixedSessionId ?? req.session_id);
    return c.json(await factcheck(core, session, req, core.evidenceProvider));
  };
}

/** `POST /api/v1/factcheck` and its `fact-check` alias. */
export const factcheckRoutes = new Hono<RouterEnv>()
  .post("/api/v1/factcheck", factcheckHandler())
  .post("/api/v1/fact-check", factcheckHandler());
