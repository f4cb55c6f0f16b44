import { Hono } from "hono";
import { NewSessionSchema } from "../config.js";
import type { RouterEnv } from "../http/env.js";
import { numericParam, readJsonBody, validate } from "../http/input.js";
import { sessionView } from "../http/views.js";

/** List, read and create sessions. */
export const sessionRoutes = new Hono<RouterEnv>()
  .get("/api/v1/sessions", (c) => {
    const core = c.get("core");
    const sessions = core.sessions.list().map((s) => sessionView(core, s));
    return c.json({
      count: sessions.length,
      default_session_id: core.sessions.defaultSessionId ?? null,
      sessions,
    });
  })
  .get("/api/v1/sessions/:sessionId", (c) => {
    const core = c.get("core");
    const id = numericParam(c.req.param("sessionId"), "session_id");
    return c.json(sessionView(core, core.sessions.get(id)));
  })
  .post("/api/v1/sessions", async (c) => {
    const core = c.get("core");
    const input = validate(NewSessionSchema, await readJsonBody(c), "session");
    return c.json(sessionView(core, core.sessions.create(input)), 201);
  });
