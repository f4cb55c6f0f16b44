import { RouterCompletionResponse, RouterErrorBody } from "@portal/contracts";
import { afterEach, describe, expect, it } from "vitest";
import type { RouterConfig } from "../config.js";
import { TrialQuota } from "../core/trial.js";
import { startTestRouter, type TestRouter } from "../testing/harness.js";

let t: TestRouter | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const sessions: RouterConfig["sessions"] = [
  { id: 0, model: "demo", mode: "ephemeral" },
  { id: 7, model: "demo", mode: "ephemeral" },
];
const noKey = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: "POST", headers, body: JSON.stringify(body) });

async function err(res: Response, status: number, code: string): Promise<RouterErrorBody> {
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(status);
  const parsed = RouterErrorBody.parse(body);
  expect(parsed.error.code).toBe(code);
  return parsed;
}

describe("trial routes", () => {
  it("are 404 when trial is not enabled", async () => {
    t = await startTestRouter({ config: { sessions, default_session_id: 0 } }, 1);
    await err(
      await noKey(`${t.node.url}/api/v1/trial/completions/0`, { prompt: "hi" }),
      404,
      "not_found",
    );
  });

  it("serve without an API key, once per client IP per window by default (429 + Retry-After)", async () => {
    t = await startTestRouter(
      { config: { sessions, default_session_id: 0, trial: { enabled: true } } },
      1,
    );
    const url = `${t.node.url}/api/v1/trial/completions/0`;
    const first = await noKey(url, { prompt: "try me" });
    expect(first.status).toBe(200);
    expect(first.headers.get("x-trial-remaining")).toBe("0");
    RouterCompletionResponse.parse(await first.json());
    const second = await noKey(url, { prompt: "again" });
    expect(Number(second.headers.get("retry-after"))).toBeGreaterThan(800);
    const e = await err(second, 429, "trial_quota_exceeded");
    expect(e.error.details).toMatchObject({ limit: 1, window_s: 900 });
    // The quota covers every trial route of the client.
    await err(
      await noKey(`${t.node.url}/api/v2/trial/validate`, {
        session_id: 0,
        claim: { type: "x", output: "y" },
      }),
      429,
      "trial_quota_exceeded",
    );
  });

  it("X-Forwarded-For is honoured only with trust_proxy; fixed sessions override the caller's", async () => {
    t = await startTestRouter(
      {
        config: {
          sessions,
          trial: {
            enabled: true,
            max_requests: 1,
            trust_proxy: true,
            sessions: { completions: 7, delegate: 7, validate: 7, factcheck: 7 },
          },
        },
      },
      1,
    );
    const url = `${t.node.url}/api/v1/trial/completions/0`;
    const a = await noKey(url, { prompt: "a" }, { "X-Forwarded-For": "203.0.113.1" });
    expect(RouterCompletionResponse.parse(await a.json()).session_id).toBe(7);
    const b = await noKey(url, { prompt: "b" }, { "X-Forwarded-For": "203.0.113.2, 10.0.0.1" });
    expect(b.status).toBe(200);
    await err(
      await noKey(url, { prompt: "c" }, { "X-Forwarded-For": "203.0.113.1" }),
      429,
      "trial_quota_exceeded",
    );
    // A client-written prefix does not buy a fresh quota: the proxy's appended entry counts.
    await err(
      await noKey(url, { prompt: "d" }, { "X-Forwarded-For": "192.0.2.77, 203.0.113.1" }),
      429,
      "trial_quota_exceeded",
    );
    for (const [i, [path, body]] of [
      ["/api/v1/trial/delegate", { task_request_input: "hi" }],
      ["/api/v2/trial/delegate", { objective: "hi" }],
      ["/api/v1/trial/validate", { task_request_input: "q", task_result_output: "a" }],
      ["/api/v2/trial/validate", { claim: { type: "x", description: "d", output: "y" } }],
      ["/api/v1/trial/factcheck", { claim: "The sky is blue." }],
      ["/api/v1/trial/fact-check", { claim: "Water is wet." }],
    ].entries()) {
      const ip = `198.51.100.${i + 1}`;
      const res = await noKey(`${t.node.url}${path}`, body, { "X-Forwarded-For": ip });
      expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
    }
  });

  it("without a fixed trial session the caller must name one", async () => {
    t = await startTestRouter(
      { config: { sessions, default_session_id: 0, trial: { enabled: true, max_requests: 5 } } },
      1,
    );
    const e = await err(
      await noKey(`${t.node.url}/api/v1/trial/completions`, { prompt: "x" }),
      400,
      "missing_session",
    );
    expect(e.error.message).toContain("trial");
    const ok = await noKey(`${t.node.url}/api/v1/trial/completions`, {
      session_id: 7,
      prompt: "x",
    });
    expect(RouterCompletionResponse.parse(await ok.json()).session_id).toBe(7);
  });

  it("a request refused before any work (bad body, unknown session, no miner) costs no quota", async () => {
    t = await startTestRouter(
      { config: { sessions, default_session_id: 0, trial: { enabled: true } } },
      0,
    );
    const url = `${t.node.url}/api/v1/trial/completions`;
    const typo = await fetch(url, { method: "POST", body: '{"session_id": 0, "prompt": "hi"' });
    expect(typo.headers.get("x-trial-remaining")).toBe("1");
    await err(typo, 400, "invalid_json");
    await err(await noKey(url, { session_id: 99, prompt: "hi" }), 404, "session_not_found");
    await err(await noKey(url, { session_id: 0, prompt: "hi" }), 503, "no_miners_available");
    await t.addMiners(1);
    const ok = await noKey(url, { session_id: 0, prompt: "hi" });
    expect(ok.status, await ok.clone().text()).toBe(200);
    expect(ok.headers.get("x-trial-remaining")).toBe("0");
    await err(await noKey(url, { session_id: 0, prompt: "again" }), 429, "trial_quota_exceeded");
  });

  it("the quota window slides: a client may come back once the window has passed", () => {
    const q = new TrialQuota(2, 1000);
    q.take("a", 0);
    q.take("a", 10);
    expect(() => q.take("a", 500)).toThrow(/quota/);
    expect(q.take("b", 500).remaining).toBe(1);
    expect(q.take("a", 1001).remaining).toBe(0);
    // A refunded request frees its slot at once.
    q.refund("a", 1001);
    expect(q.take("a", 1002).remaining).toBe(0);
  });
});
