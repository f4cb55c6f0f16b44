import { RouterCompletionRequest } from "@portal/contracts";
import { type Context, Hono } from "hono";
import { type Access, KEY_ACCESS, sessionFor } from "../http/access.js";
import type { RouterEnv } from "../http/env.js";
import { numericParam, readJsonBody, validate } from "../http/input.js";
import { streamTask } from "../http/sse.js";

/** The completion handler of one API version under one access policy (key, trial or x402). */
export function completionHandler(apiVersion: 1 | 2 | 3, access: Access = KEY_ACCESS) {
  return async (c: Context<RouterEnv>): Promise<Response> => {
    const core = c.get("core");
    const rawSid = c.req.param("sessionId");
    const pathSessionId = rawSid === undefined ? undefined : numericParam(rawSid, "session_id");
    const request = validate(RouterCompletionRequest, await readJsonBody(c), "completion request");
    const session = sessionFor(core, access, pathSessionId ?? request.session_id);
    const { task, stream } = await core.submitCompletion({
      apiVersion,
      pathSessionId: session.id,
      request,
    });
    if (stream) return streamTask(core, task);
    await task.watch();
    return c.json(core.completionResponse(task));
  };
}

/** `POST /api/v{1,2,3}/completions[/{session_id}]`. */
export const completionRoutes = new Hono<RouterEnv>();
for (const v of [1, 2, 3] as const) {
  completionRoutes.post(`/api/v${v}/completions`, completionHandler(v));
  completionRoutes.post(`/api/v${v}/completions/:sessionId`, completionHandler(v));
}
