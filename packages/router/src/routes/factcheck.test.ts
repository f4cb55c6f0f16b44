import { RouterErrorBody, RouterFactcheckResponse } from "@portal/contracts";
import { afterEach, describe, expect, it } from "vitest";
import type { RouterConfig } from "../config.js";
import { StaticEvidenceProvider } from "../core/factcheck/evidence.js";
import { startTestRouter, type TestRouter } from "../testing/harness.js";

let t: TestRouter | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const sessions: RouterConfig["sessions"] = [
  { id: 68, model: "demo", mode: "ephemeral" },
  { id: 70, model: "demo", mode: "ephemeral" },
  { id: 71, model: "demo", mode: "ephemeral" },
];

async function ok(res: Response): Promise<RouterFactcheckResponse> {
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return RouterFactcheckResponse.parse(body);
}

async function err(res: Response, status: number, code: string): Promise<RouterErrorBody> {
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(status);
  const parsed = RouterErrorBody.parse(body);
  expect(parsed.error.code).toBe(code);
  return parsed;
}

const seedBody = {
  session_id: 68,
  mode: "standard",
  claim: {
    type: "network_roles",
    statement: "Cortensor supports router, miner, oracle, and validator roles.",
  },
  policy: {
    tier: "safe",
    redundancy: 3,
    task_redundancy: 1,
    timeout_ms: 120000,
    precommit_timeout: 90,
  },
};

describe("factcheck", () => {
  it("standard mode with redundancy 3: verdict, confidence and per-run evidence (both paths)", async () => {
    t = await startTestRouter({ config: { sessions } }, 3);
    for (const path of ["/api/v1/factcheck", "/api/v1/fact-check"]) {
      const r = await ok(await t.post(path, seedBody));
      expect(r).toMatchObject({
        object: "factcheck",
        mode: "standard",
        session_id: 68,
        verdict: "TRUE",
      });
      expect(r.runs).toHaveLength(3);
      expect(r.sources).toEqual([]);
    }
    const f = await ok(
      await t.post("/api/v1/factcheck", {
        ...seedBody,
        claim: { statement: "Routers never talk to miners." },
      }),
    );
    expect(f.verdict).toBe("FALSE");
  });

  it("sessions come from FACTCHECK_<MODE>_SESSION_ID, else FACTCHECK_SESSION_ID (config)", async () => {
    t = await startTestRouter(
      {
        config: { sessions, factcheck: { standard_session_id: 70, session_id: 71 } },
        evidenceProvider: new StaticEvidenceProvider([]),
      },
      1,
    );
    const body = { claim: "The sky is blue." };
    expect((await ok(await t.post("/api/v1/factcheck", body))).session_id).toBe(70);
    expect(
      (await ok(await t.post("/api/v1/factcheck", { ...body, mode: "realtime" }))).session_id,
    ).toBe(71);
    expect(
      (await ok(await t.post("/api/v1/factcheck", { ...body, session_id: 68 }))).session_id,
    ).toBe(68);
  });

  it("realtime mode asks the evidence provider and hands the sources to the miners", async () => {
    const sources = [
      { title: "Docs", url: "https://docs.example/roles", snippet: "Roles: router, miner." },
    ];
    t = await startTestRouter(
      { config: { sessions }, evidenceProvider: new StaticEvidenceProvider(sources) },
      1,
    );
    const r = await ok(
      await t.post("/api/v1/factcheck", { ...seedBody, mode: "realtime", policy: {} }),
    );
    expect(r).toMatchObject({ mode: "realtime", sources, evidence: { provider: "static" } });
    const task = (await (await t.get(`/api/v1/tasks/68/${r.runs[0]?.task_id}`)).json()) as {
      prompt_urn: string;
    };
    const prompt = await t.node.core.blobs.get(task.prompt_urn);
    expect(prompt).toContain("https://docs.example/roles");
  });

  it("realtime without a provider is a clear 503; no session anywhere is missing_session", async () => {
    t = await startTestRouter({ config: { sessions } }, 1);
    const e = await err(
      await t.post("/api/v1/factcheck", { ...seedBody, mode: "realtime" }),
      503,
      "realtime_evidence_unavailable",
    );
    expect(e.error.message).toContain("evidence provider");
    const m = await err(await t.post("/api/v1/factcheck", { claim: "x" }), 400, "missing_session");
    expect(m.error.message).toContain("FACTCHECK_STANDARD_SESSION_ID");
    await err(
      await t.post("/api/v1/factcheck", { session_id: 68, mode: "fast", claim: "x" }),
      400,
      "invalid_request",
    );
    await err(
      await t.post("/api/v1/factcheck", { session_id: 68, claim: {} }),
      400,
      "invalid_request",
    );
  });
});
