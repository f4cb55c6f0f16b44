import { RouterCompletionResponse, RouterStatus } from "@portal/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRouter, type TestRouter } from "./testing/harness.js";

/**
 * The curl examples of the seed documents (000 Web2 API reference, 002 direct router routes),
 * translated to fetch with host, port, token and session substituted. `curl -d` sends
 * `application/x-www-form-urlencoded`, so those examples keep that content type here.
 */
let t: TestRouter;
let base: string;
const key = "default-dev-token";
const bearer = { Authorization: `Bearer ${key}` };
const curlForm = { ...bearer, "Content-Type": "application/x-www-form-urlencoded" };

beforeAll(async () => {
  t = await startTestRouter({}, 3);
  base = t.node.url;
});
afterAll(() => t.close());

describe("seed 000 — Web2 API reference", () => {
  it("POST /api/v1/completions/0 -d '{prompt, stream:false, timeout:60}'", async () => {
    const res = await fetch(`${base}/api/v1/completions/0`, {
      method: "POST",
      headers: curlForm,
      body: '{"prompt": "Hello, how are you?", "stream": false, "timeout": 60}',
    });
    expect(res.status).toBe(200);
    const r = RouterCompletionResponse.parse(await res.json());
    expect(r).toMatchObject({ object: "text_completion", session_id: 0, task_id: 0 });
    expect(r.usage.prompt_tokens).toBe(6);
  });

  it("POST /api/v1/completions -d '{session_id:0, prompt, stream:false, timeout:60}'", async () => {
    const res = await fetch(`${base}/api/v1/completions`, {
      method: "POST",
      headers: curlForm,
      body: '{"session_id": 0, "prompt": "Hello, how are you?", "stream": false, "timeout": 60}',
    });
    const r = RouterCompletionResponse.parse(await res.json());
    expect(r).toMatchObject({ session_id: 0, task_id: 1 });
  });

  it("stream: true returns Server-Sent Events", async () => {
    const res = await fetch(`${base}/api/v1/completions/0`, {
      method: "POST",
      headers: curlForm,
      body: '{"prompt": "Hello, how are you?", "stream": true, "timeout": 60}',
    });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    expect((await res.text()).trim().endsWith("data: [DONE]")).toBe(true);
  });

  it("GET info, status, miners, sessions, sessions/0, tasks/0, tasks/0/0", async () => {
    const get = (path: string) => fetch(`${base}${path}`, { method: "GET", headers: bearer });
    expect(await (await get("/api/v1/info")).json()).toMatchObject({ name: "portal-router" });
    expect(RouterStatus.parse(await (await get("/api/v1/status")).json()).miners.connected).toBe(3);
    expect(await (await get("/api/v1/miners")).json()).toMatchObject({ count: 3 });
    expect(await (await get("/api/v1/sessions")).json()).toMatchObject({
      count: 1,
      sessions: [{ id: 0 }],
    });
    expect(await (await get("/api/v1/sessions/0")).json()).toMatchObject({ id: 0, model: "demo" });
    const tasks = (await (await get("/api/v1/tasks/0")).json()) as {
      tasks: Array<{ state: string }>;
    };
    expect(tasks.tasks.map((x) => x.state)).toEqual(["closed", "closed", "closed"]);
    expect(await (await get("/api/v1/tasks/0/0")).json()).toMatchObject({
      session_id: 0,
      task_id: 0,
      state: "closed",
      prompt: "Hello, how are you?",
    });
  });
});

describe("seed 002 — direct router", () => {
  it("curl -i ping and about (no token); info, status, miners with the router key", async () => {
    for (const path of ["/api/v1/ping", "/api/v1/about"]) {
      expect((await fetch(`${base}${path}`)).status).toBe(200);
    }
    for (const path of ["/api/v1/info", "/api/v1/status", "/api/v1/miners"]) {
      expect((await fetch(`${base}${path}`, { headers: bearer })).status).toBe(200);
      expect((await fetch(`${base}${path}`)).status).toBe(401);
    }
  });

  it("POST /api/v3/completions/$SESSION_ID with max_tokens, temperature, timeout, precommit_timeout", async () => {
    const res = await fetch(`${base}/api/v3/completions/0`, {
      method: "POST",
      headers: { ...bearer, "Content-Type": "application/json" },
      body: JSON.stringify({
        prompt: "What is Cortensor?",
        max_tokens: 160,
        temperature: 0.7,
        timeout: 180,
        precommit_timeout: 120,
        stream: false,
      }),
    });
    expect(res.status).toBe(200);
    const r = RouterCompletionResponse.parse(await res.json());
    expect(r.usage.completion_tokens).toBeGreaterThan(0);
    expect(r.usage.completion_tokens).toBeLessThanOrEqual(160);
  });
});
