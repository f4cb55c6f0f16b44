import { Hono } from "hono";
import type { RouterEnv } from "../http/env.js";
import { numericParam } from "../http/input.js";
import { taskDetail, taskSummary } from "../http/views.js";

/** Tasks of a session, and one task in full. */
export const taskRoutes = new Hono<RouterEnv>()
  .get("/api/v1/tasks/:sessionId", (c) => {
    const core = c.get("core");
    const sid = numericParam(c.req.param("sessionId"), "session_id");
    const session = core.sessions.get(sid);
    const tasks = core.tasks.list(session.id).map(taskSummary);
    return c.json({ session_id: session.id, count: tasks.length, tasks });
  })
  .get("/api/v1/tasks/:sessionId/:taskId", (c) => {
    const core = c.get("core");
    const sid = numericParam(c.req.param("sessionId"), "session_id");
    const tid = numericParam(c.req.param("taskId"), "task_id");
    core.sessions.get(sid);
    return c.json(taskDetail(core.tasks.get(sid, tid)));
  });
