import { RouterDelegateRequest, RouterDelegateV1Request } from "@portal/contracts";
import { type Context, Hono } from "hono";
import { delegateV1, delegateV2, delegateV3 } from "../core/delegate/service.js";
import { type Access, KEY_ACCESS, sessionFor } from "../http/access.js";
import type { RouterEnv } from "../http/env.js";
import { readJsonBody, validate } from "../http/input.js";

/** The delegate handler of one version under one access policy (key, trial or x402). */
export function delegateHandler(version: 1 | 2 | 3, access: Access = KEY_ACCESS) {
  return async (c: Context<RouterEnv>): Promise<Response> => {
    const core = c.get("core");
    const body = await readJsonBody(c);
    if (version === 1) {
      const req = validate(RouterDelegateV1Request, body, "delegate v1 request");
      return c.json(await delegateV1(core, sessionFor(core, access, req.session_id), req));
    }
    const req = validate(RouterDelegateRequest, body, `delegate v${version} request`);
    if (version === 3) return c.json(await delegateV3(core, req));
    return c.json(await delegateV2(core, sessionFor(core, access, req.session_id), req));
  };
}

/** `POST /api/v{1,2,3}/delegate`. */
export const delegateRoutes = new Hono<RouterEnv>()
  .post("/api/v1/delegate", delegateHandler(1))
  .post("/api/v2/delegate", delegateHandler(2))
  .post("/api/v3/delegate", delegateHandler(3));
