import { RouterErrorBody, RouterValidateResponse } from "@portal/contracts";
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
    { id: 68, model: "demo", mode: "ephemeral", redundancy: 1 },
    { id: 201, model: "demo", mode: "ephemeral" },
    { id: 202, model: "demo", mode: "ephemeral" },
    { id: 203, model: "demo", mode: "ephemeral" },
  ],
  default_session_id: 68,
  v3_pools: { validate: { "1": [201], "3": [201, 202, 203] } },
};

async function ok(res: Response): Promise<RouterValidateResponse> {
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return RouterValidateResponse.parse(body);
}

async function err(res: Response, status: number, code: string): Promise<RouterErrorBody> {
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(status);
  const parsed = RouterErrorBody.parse(body);
  expect(parsed.error.code).toBe(code);
  return parsed;
}

const claim = {
  type: "technical_summary",
  description: "Validate whether the output describes router behavior accurately.",
  output: "Routers coordinate API requests, sessions, and task submission.",
};

describe("validate — happy paths", () => {
  it("v2 with redundancy 3 answers verdict, confidence, reasons, advice, evidence and per-run data", async () => {
    t = await startTestRouter({ config }, 3);
    const r = await ok(
      await t.post("/api/v2/validate", {
        session_id: 68,
        claim,
        policy: {
          tier: "safe",
          redundancy: 3,
          rules: ["accuracy"],
          timeout_ms: 180000,
          precommit_timeout_ms: 120000,
        },
      }),
    );
    expect(r).toMatchObject({ object: "validation", version: "v2", verdict: "VALID" });
    expect(r.confidence).toBeGreaterThan(0.5);
    expect(r.reasons.length).toBeGreaterThan(0);
    expect(r.runs).toHaveLength(3);
    expect(new Set(r.runs?.map((x) => x.miner_id)).size).toBe(3);
    expect(r.runs?.every((x) => x.structured && x.verdict === "VALID")).toBe(true);
    expect(r.evidence).toMatchObject({ agreement: 1, runs_total: 3 });
  });

  it("v2 with redundancy 1 has no per-run block; a wrong output is INVALID", async () => {
    t = await startTestRouter({ config }, 1);
    const r = await ok(
      await t.post("/api/v2/validate", {
        claim: { ...claim, output: "Routers are wrong about everything." },
        policy: { rules: ["accuracy"] },
      }),
    );
    expect(r.verdict).toBe("INVALID");
    expect(r.runs).toBeUndefined();
  });

  it("a claim with no description and no rules is NEEDS_SPEC (the miner says so)", async () => {
    t = await startTestRouter({ config }, 1);
    const r = await ok(
      await t.post("/api/v2/validate", { claim: { type: "api_result", output: "42" } }),
    );
    expect(r.verdict).toBe("NEEDS_SPEC");
    expect(r.advice).toContain("describe the claim");
  });

  it("v1 takes the prompt-oriented fields", async () => {
    t = await startTestRouter({ config }, 1);
    const r = await ok(
      await t.post("/api/v1/validate", {
        session_id: 68,
        task_request_input: "Summarize what a router does.",
        task_result_output: "A router accepts API requests and submits tasks.",
        task_domain: "docs",
        task_type: "summary",
        evaluation_mode: "accuracy",
      }),
    );
    expect(r).toMatchObject({ version: "v1", verdict: "VALID" });
  });

  it("v3 runs the tier over its session pool and aggregates", async () => {
    t = await startTestRouter({ config }, 3);
    const r = await ok(
      await t.post("/api/v3/validate", {
        request_id: "validate-demo-1",
        claim,
        consensus: { replicas: 3 },
        policy: { tier: "safe" },
      }),
    );
    expect(r).toMatchObject({ version: "v3", request_id: "validate-demo-1", verdict: "VALID" });
    expect(r.runs?.map((x) => x.session_id).sort()).toEqual([201, 202, 203]);
    expect(r.evidence).toMatchObject({ replicas: 3, session_pool: [201, 202, 203] });
    // `replicas` at the top level works as well, tier 1 by default.
    const one = await ok(await t.post("/api/v3/validate", { claim, replicas: 1 }));
    expect(one.runs).toBeUndefined();
    expect(one.evidence).toMatchObject({ session_pool: [201] });
  });

  it("miner output that is not the JSON asked for reads as RETRY, never a crash", async () => {
    t = await startTestRouter({ config }, 0);
    await t.addRaw("honest", { text: "I think it is fine." });
    const r = await ok(await t.post("/api/v2/validate", { claim }));
    expect(r.verdict).toBe("RETRY");
    expect(r.confidence).toBe(0);
    expect(r.reasons[0]).toContain("not the JSON object");
  });

  it("a JSON answer with an unknown verdict is RETRY; split runs are RETRY too", async () => {
    t = await startTestRouter({ config }, 0);
    await t.addRaw("honest", { text: '{"verdict":"MAYBE","confidence":0.9}' });
    const r = await ok(await t.post("/api/v2/validate", { claim }));
    expect(r.verdict).toBe("RETRY");
    await t.close();
    t = await startTestRouter({ config }, 0);
    await t.addRaw("honest", { text: '{"verdict":"VALID","confidence":0.9,"reasons":["ok"]}' });
    await t.addRaw("honest", { text: '{"verdict":"INVALID","confidence":0.8,"reasons":["no"]}' });
    const split = await ok(await t.post("/api/v2/validate", { claim, policy: { redundancy: 2 } }));
    expect(split.verdict).toBe("RETRY");
    expect(split.reasons[0]).toMatch(/disagree/);
    expect(split.runs).toHaveLength(2);
  });
});

describe("validate — errors and security", () => {
  it("missing_v3_session_pool when the tier has no pool; invalid_request for an unknown tier", async () => {
    t = await startTestRouter({ config }, 1);
    const e = await err(
      await t.post("/api/v3/validate", { claim, consensus: { replicas: 5 } }),
      400,
      "missing_v3_session_pool",
    );
    expect(e.error.details).toMatchObject({ family: "validate", replicas: 5 });
    const bad = await err(
      await t.post("/api/v3/validate", { claim, consensus: { replicas: 2 } }),
      400,
      "invalid_request",
    );
    expect(bad.error.details).toMatchObject({ allowed: [1, 3, 5] });
  });

  it("a malformed claim is invalid_request naming the field", async () => {
    t = await startTestRouter({ config }, 1);
    const e = await err(
      await t.post("/api/v2/validate", { claim: { description: "no type, no output" } }),
      400,
      "invalid_request",
    );
    expect(JSON.stringify(e.error.details)).toContain("claim.type");
    await err(await t.post("/api/v2/validate", { claim: "just a string" }), 400, "invalid_request");
    await err(
      await t.post("/api/v1/validate", { task_request_input: "x" }),
      400,
      "invalid_request",
    );
  });

  it("unknown session is 404; no API key is 401", async () => {
    t = await startTestRouter({ config }, 1);
    await err(
      await t.post("/api/v2/validate", { session_id: 999, claim }),
      404,
      "session_not_found",
    );
    const res = await fetch(`${t.node.url}/api/v2/validate`, {
      method: "POST",
      body: JSON.stringify({ claim }),
    });
    await err(res, 401, "unauthorized");
  });
});
