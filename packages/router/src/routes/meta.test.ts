import { RouterErrorBody, RouterStatus } from "@portal/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRouterApp } from "../app.js";
import { AUTH, startTestRouter, type TestRouter } from "../testing/harness.js";

let t: TestRouter;
let app: ReturnType<typeof createRouterApp>;
beforeAll(async () => {
  t = await startTestRouter(
    {
      config: {
        default_session_id: 0,
        sessions: [
          { id: 0, model: "demo", mode: "ephemeral", redundancy: 1 },
          { id: 3, model: "demo", mode: "dedicated", miners: ["m-x"], private: true, timeout: 90 },
        ],
      },
    },
    2,
  );
  app = createRouterApp(t.node.core);
});
afterAll(() => t.close());

const AUTHED_GETS = [
  "/api/v1/info",
  "/api/v1/status",
  "/api/v1/miners",
  "/api/v1/sessions",
  "/api/v1/sessions/0",
  "/api/v1/tasks/0",
  "/api/v1/tasks/0/0",
];
const AUTHED_POSTS = [
  "/api/v1/completions",
  "/api/v1/completions/0",
  "/api/v2/completions/0",
  "/api/v3/completions",
  "/api/v3/completions/0",
  "/api/v1/sessions",
];

describe("public meta routes", () => {
  it("ping and about answer without a token", async () => {
    const ping = await app.request("/api/v1/ping");
    expect(ping.status).toBe(200);
    expect(await ping.json()).toMatchObject({ status: "ok", message: "pong" });
    const about = await app.request("/api/v1/about");
    expect(await about.json()).toMatchObject({
      name: "portal-router",
      api_versions: ["v1", "v2", "v3"],
    });
  });
});

describe("bearer auth", () => {
  const cases: Array<[string, Record<string, string>]> = [
    ["missing", {}],
    ["malformed", { Authorization: "Token default-dev-token" }],
    ["empty bearer", { Authorization: "Bearer " }],
    ["wrong key", { Authorization: "Bearer not-the-key" }],
  ];
  for (const [name, headers] of cases) {
    it(`${name} token → 401 unauthorized on every authenticated route`, async () => {
      for (const path of AUTHED_GETS) {
        const res = await app.request(path, { headers });
        expect(res.status, path).toBe(401);
        expect(RouterErrorBody.parse(await res.json()).error.code).toBe("unauthorized");
        expect(res.headers.get("www-authenticate")).toContain("Bearer");
      }
      for (const path of AUTHED_POSTS) {
        const res = await app.request(path, { method: "POST", headers, body: '{"prompt":"x"}' });
        expect(res.status, path).toBe(401);
      }
    });
  }
});

describe("authenticated meta routes", () => {
  it("info describes the node", async () => {
    const body = await (await app.request("/api/v1/info", { headers: AUTH })).json();
    expect(body).toMatchObject({
      name: "portal-router",
      version: "0.1.0",
      node_id: t.node.core.nodeId,
      api_versions: ["v1", "v2", "v3"],
      default_session_id: 0,
      sessions: 2,
      miners: 2,
      miner_ws_path: "/ws/miners",
      blob_store: "mem",
    });
  });

  it("status parses with the RouterStatus contract", async () => {
    const status = RouterStatus.parse(
      await (await app.request("/api/v1/status", { headers: AUTH })).json(),
    );
    expect(status).toMatchObject({
      status: "ok",
      version: "0.1.0",
      miners: { connected: 2, idle: 2 },
      sessions: 2,
    });
  });

  it("miners lists connected miners, engine demo, with stats", async () => {
    const body = (await (await app.request("/api/v1/miners", { headers: AUTH })).json()) as {
      count: number;
      miners: Array<Record<string, unknown>>;
    };
    expect(body.count).toBe(2);
    expect(body.miners[0]).toMatchObject({
      engine: "demo",
      models: ["demo"],
      capacity: 1,
      active_tasks: 0,
      stats: { tasks_assigned: 0, tasks_completed: 0, failures: 0, avg_latency_ms: null },
    });
  });

  it("sessions lists and reads sessions; errors for unknown and malformed ids", async () => {
    const list = (await (await app.request("/api/v1/sessions", { headers: AUTH })).json()) as {
      sessions: Array<{ id: number }>;
      default_session_id: number;
    };
    expect(list.sessions.map((s) => s.id)).toEqual([0, 3]);
    expect(list.default_session_id).toBe(0);
    const s3 = await (await app.request("/api/v1/sessions/3", { headers: AUTH })).json();
    expect(s3).toMatchObject({
      id: 3,
      mode: "dedicated",
      miners: ["m-x"],
      private: true,
      timeout: 90,
      precommit_timeout: 30,
      is_default: false,
      eligible_miners: 0,
    });
    const missing = await app.request("/api/v1/sessions/9", { headers: AUTH });
    expect(missing.status).toBe(404);
    expect(RouterErrorBody.parse(await missing.json()).error.code).toBe("session_not_found");
    const bad = await app.request("/api/v1/sessions/x1", { headers: AUTH });
    expect(bad.status).toBe(400);
    expect(RouterErrorBody.parse(await bad.json()).error).toMatchObject({
      code: "invalid_request",
      details: { issues: [{ path: "session_id" }] },
    });
  });

  it("tasks routes: unknown session, unknown task, malformed task id", async () => {
    expect((await app.request("/api/v1/tasks/8", { headers: AUTH })).status).toBe(404);
    const noTask = await app.request("/api/v1/tasks/3/77", { headers: AUTH });
    expect(RouterErrorBody.parse(await noTask.json()).error.code).toBe("task_not_found");
    const bad = await app.request("/api/v1/tasks/0/-1", { headers: AUTH });
    expect(RouterErrorBody.parse(await bad.json()).error).toMatchObject({
      code: "invalid_request",
      details: { issues: [{ path: "task_id" }] },
    });
  });

  it("unknown routes are not_found", async () => {
    const res = await app.request("/api/v9/nothing", { headers: AUTH });
    expect(res.status).toBe(404);
    expect(RouterErrorBody.parse(await res.json()).error.code).toBe("not_found");
  });
});

describe("POST /api/v1/sessions", () => {
  it("creates a session (id chosen or given) that then serves completions", async () => {
    const res = await app.request("/api/v1/sessions", {
      method: "POST",
      headers: AUTH,
      body: JSON.stringify({ model: "demo", mode: "ephemeral", redundancy: 2, max_tokens: 5 }),
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { id: number; source: string; redundancy: number };
    expect(created).toMatchObject({ id: 4, source: "api", redundancy: 2 });
    const done = await t.post(`/api/v1/completions/${created.id}`, { prompt: "new session" });
    const body = (await done.json()) as { usage: { completion_tokens: number }; miners: unknown[] };
    expect(body.usage.completion_tokens).toBeLessThanOrEqual(5);
    expect(body.miners).toHaveLength(2);
  });

  it("refuses a duplicate id, a dedicated session without miners, unknown fields", async () => {
    const post = (body: unknown) =>
      app.request("/api/v1/sessions", {
        method: "POST",
        headers: AUTH,
        body: JSON.stringify(body),
      });
    const dup = await post({ id: 0, model: "demo", mode: "ephemeral" });
    expect(dup.status).toBe(400);
    expect(RouterErrorBody.parse(await dup.json()).error.message).toBe("session 0 already exists");
    const ded = await post({ model: "demo", mode: "dedicated" });
    expect(RouterErrorBody.parse(await ded.json()).error.details?.issues).toEqual([
      expect.objectContaining({ path: "miners", message: "a dedicated session lists its miners" }),
    ]);
    expect((await post({ model: "demo", mode: "ephemeral", colour: "red" })).status).toBe(400);
    expect((await post({ model: "demo", mode: "sometimes" })).status).toBe(400);
  });
});
