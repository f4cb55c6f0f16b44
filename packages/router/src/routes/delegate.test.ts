import { RouterDelegateResponse, RouterErrorBody } from "@portal/contracts";
import { afterEach, describe, expect, it } from "vitest";
import type { RouterConfig } from "../config.js";
import { startTestRouter, type TestRouter } from "../testing/harness.js";

let t: TestRouter | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const config: RouterConfig = {
  sessions: [
    { id: 68, model: "demo", mode: "ephemeral" },
    { id: 301, model: "demo", mode: "ephemeral" },
    { id: 302, model: "demo", mode: "ephemeral" },
  ],
  v3_pools: { delegate: { "1": [301], "3": [301, 302] } },
};

async function ok(res: Response): Promise<RouterDelegateResponse> {
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return RouterDelegateResponse.parse(body);
}

async function err(res: Response, status: number, code: string): Promise<RouterErrorBody> {
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(status);
  const parsed = RouterErrorBody.parse(body);
  expect(parsed.error.code).toBe(code);
  return parsed;
}

const v2 = {
  session_id: 68,
  objective: "Summarize the technical purpose of Cortensor routers.",
  input: {
    kind: "text",
    payload: "Routers accept API requests, resolve sessions, and submit tasks to the network.",
  },
  policy: { tier: "balanced", redundancy: 1, timeout: 300, precommit_timeout: 240 },
  model_policy: { max_tokens: 180, temperature: 0.4 },
};

describe("delegate — happy paths", () => {
  it("v2 objective + input answers the structured output with steps and evidence", async () => {
    t = await startTestRouter({ config }, 1);
    const r = await ok(await t.post("/api/v2/delegate", v2));
    expect(r).toMatchObject({
      object: "delegation",
      version: "v2",
      status: "completed",
      structured: true,
    });
    expect(typeof r.output).toBe("string");
    expect((r.output as string).length).toBeGreaterThan(0);
    expect(r.evidence).toMatchObject({ steps: expect.arrayContaining(["wrote the output"]) });
    expect(r.replicas).toBeUndefined();
  });

  it("v2 accepts task_request_input instead of objective, and redundancy fans out", async () => {
    t = await startTestRouter({ config }, 2);
    const r = await ok(
      await t.post("/api/v2/delegate", {
        session_id: 68,
        task_request_input: "List three router duties.",
        policy: { redundancy: 2 },
      }),
    );
    expect(r.replicas).toHaveLength(2);
    expect(r.replicas?.every((x) => x.agreed === true)).toBe(true);
  });

  it("v1 returns the plain text answer", async () => {
    t = await startTestRouter({ config }, 1);
    const r = await ok(
      await t.post("/api/v1/delegate", {
        session_id: 68,
        task_request_input: "Say hello",
        task_domain: "chat",
      }),
    );
    expect(r).toMatchObject({ version: "v1", status: "completed", structured: false });
    expect(r.evidence).toMatchObject({ session_id: 68 });
  });

  it("v3 runs the replica tier over the pool (replicas via consensus.replicas)", async () => {
    t = await startTestRouter({ config }, 3);
    const r = await ok(
      await t.post("/api/v3/delegate", {
        request_id: "delegate-demo-1",
        objective: "Write a short technical summary of decentralized inference.",
        input: { kind: "text", payload: "Cortensor routes inference work across miner nodes." },
        consensus: { replicas: 3 },
        policy: { tier: "balanced" },
      }),
    );
    expect(r).toMatchObject({ version: "v3", request_id: "delegate-demo-1", status: "completed" });
    expect(r.replicas).toHaveLength(3);
    expect(r.evidence).toMatchObject({
      replicas: 3,
      session_pool: [301, 302],
      consensus: { method: "majority", replicas: 3 },
    });
  });

  it("output that is not the JSON asked for comes back raw with status retry", async () => {
    t = await startTestRouter({ config }, 0);
    await t.addRaw("honest", { text: "plain words, no JSON" });
    const r = await ok(await t.post("/api/v2/delegate", v2));
    expect(r).toMatchObject({ status: "retry", structured: false, output: "plain words, no JSON" });
  });
});

describe("delegate — errors", () => {
  it("missing_v3_session_pool for an unconfigured tier, invalid_request for an unknown one", async () => {
    t = await startTestRouter({ config }, 1);
    await err(
      await t.post("/api/v3/delegate", { objective: "x", replicas: 5 }),
      400,
      "missing_v3_session_pool",
    );
    await err(
      await t.post("/api/v3/delegate", { objective: "x", replicas: 4 }),
      400,
      "invalid_request",
    );
  });

  it("neither objective nor task_request_input, a url input without web fetch, no session", async () => {
    t = await startTestRouter({ config }, 1);
    await err(await t.post("/api/v2/delegate", { session_id: 68 }), 400, "invalid_request");
    const web = await err(
      await t.post("/api/v2/delegate", {
        ...v2,
        input: { kind: "url", payload: "https://example.org" },
      }),
      400,
      "invalid_request",
    );
    expect(web.error.message).toContain("web fetch");
    await err(await t.post("/api/v2/delegate", { objective: "x" }), 400, "missing_session");
  });

  it("no API key is 401", async () => {
    t = await startTestRouter({ config }, 1);
    const res = await fetch(`${t.node.url}/api/v2/delegate`, { method: "POST", body: "{}" });
    await err(res, 401, "unauthorized");
  });
});
