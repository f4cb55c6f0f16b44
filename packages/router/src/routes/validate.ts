import { RouterValidateRequest, RouterValidateV1Request } from "@portal/contracts";
import { type Context, Hono } from "hono";
import { validateV1, validateV2, validateV3 } from "../core/validate/service.js";
import { type Access, KEY_ACCESS, sessionFor } from "../http/access.js";
import type { RouterEnv } from "../http/env.js";
import { readJsonBody, validate } from "../http/input.js";

/** The validate handler of one version under one access policy (key, trial or x402). */
export function validateHandler(version: 1 | 2 | 3, access: Access = KEY_ACCESS) {
  return async (c: Context<RouterEnv>): Promise<Response> => {
    const core = c.get("core");
    const body = await readJsonBody(c);
    if (version === 1) {
      const req = validate(RouterValidateV1Request, body, "validate v1 request");
      return c.json(await validateV1(core, sessionFor(core, access, req.session_id), req));
    }
    const req = validate(RouterValidateRequest, body, `validate v${version} request`);
    if (version === 3) return c.json(await validateV3(core, req));
    return c.json(await validateV2(core, sessionFor(core, access, req.session_id), req));
  };
}

/** `POST /api/v{1,2,3}/validate`. */
export const validateRoutes = new Hono<RouterEnv>()
  .post("/api/v1/validate", validateHandler(1))
  .post("/api/v2/validate", validateHandler(2))
  .post("/api/v3/validate", validateHandler(3));
