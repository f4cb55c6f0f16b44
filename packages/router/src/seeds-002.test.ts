import {
  RouterDelegateResponse,
  RouterErrorBody,
  RouterFactcheckResponse,
  RouterValidateResponse,
} from "@portal/contracts";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RouterConfig } from "./config.js";
import { startTestRouter, type TestRouter } from "./testing/harness.js";
import { signPayment } from "./testing/x402-client.js";

/**
 * Seed 002's curl examples for delegate, validate, factcheck, payload keys, trial and x402,
 * translated to fetch as written (bodies verbatim; $ROUTER_URL, $ROUTER_API_KEY, $SESSION_ID,
 * $WALLET_ADDRESS and $PAYLOAD_KEY_SIGNATURE substituted).
 */
const wallet = privateKeyToAccount(generatePrivateKey());
const config: RouterConfig = {
  sessions: [
    { id: 68, model: "demo", mode: "ephemeral", private: true },
    { id: 201, model: "demo", mode: "ephemeral" },
    { id: 202, model: "demo", mode: "ephemeral" },
    { id: 203, model: "demo", mode: "ephemeral" },
  ],
  v3_pools: {
    delegate: { "1": [201], "3": [201, 202, 203] },
    validate: { "1": [201], "3": [201, 202, 203] },
  },
  privacy: { allowed_list: `68:${wallet.address}` },
  trial: { enabled: true, max_requests: 100 },
  x402: { enabled: true, pay_to: "0x209693Bc6afc0C5328bA36FaF03C514EF312287C" },
};

let t: TestRouter;
let ROUTER_URL: string;
const ROUTER_API_KEY = "default-dev-token";
const json = { "Content-Type": "application/json" };
const auth = { Authorization: `Bearer ${ROUTER_API_KEY}`, ...json };

beforeAll(async () => {
  t = await startTestRouter({ config, encryptionSeed: "seed-002-encryption-seed" }, 3);
  ROUTER_URL = t.node.url;
});
afterAll(() => t.close());

async function body200(res: Response): Promise<unknown> {
  const b = await res.json();
  expect(res.status, JSON.stringify(b)).toBe(200);
  return b;
}

describe("seed 002 — delegate and validate", () => {
  it("Delegate v2: objective + input, policy, model_policy", async () => {
    const res = await fetch(`${ROUTER_URL}/api/v2/delegate`, {
      method: "POST",
      headers: auth,
      body: `{
"session_id": 68,
"objective": "Summarize the technical purpose of Cortensor routers.",
"input": {
"kind": "text",
"payload": "Routers accept API requests, resolve sessions, and submit tasks to the network."
},
"policy": {
"tier": "balanced",
"redundancy": 1,
"timeout": 300,
"precommit_timeout": 240
},
"model_policy": {
"max_tokens": 180,
"temperature": 0.4
}
}`,
    });
    const r = RouterDelegateResponse.parse(await body200(res));
    expect(r).toMatchObject({ version: "v2", status: "completed", structured: true });
  });

  it("Delegate v3: consensus.replicas 3 over the predefined pool", async () => {
    const res = await fetch(`${ROUTER_URL}/api/v3/delegate`, {
      method: "POST",
      headers: auth,
      body: `{
"request_id": "delegate-demo-1",
"objective": "Write a short technical summary of decentralized inference.",
"input": {"kind": "text", "payload": "Cortensor routes inference work across miner nodes."},
"consensus": {"replicas": 3},
"policy": {"tier": "balanced"}
}`,
    });
    const r = RouterDelegateResponse.parse(await body200(res));
    expect(r).toMatchObject({ version: "v3", request_id: "delegate-demo-1" });
    expect(r.replicas).toHaveLength(3);
  });

  it("Validate v2: claim + policy with redundancy 3 → verdict, confidence, reasons, advice, evidence, runs", async () => {
    const res = await fetch(`${ROUTER_URL}/api/v2/validate`, {
      method: "POST",
      headers: auth,
      body: `{
"session_id": 68,
"claim": {
"type": "technical_summary",
"description": "Validate whether the output describes router behavior accurately.",
"output": "Routers coordinate API requests, sessions, and task submission."
},
"policy": {
"tier": "safe",
"redundancy": 3,
"rules": ["accuracy", "clarity", "no unsupported claims"],
"timeout_ms": 180000,
"precommit_timeout_ms": 120000
}
}`,
    });
    const r = RouterValidateResponse.parse(await body200(res));
    expect(["VALID", "INVALID", "RETRY", "NEEDS_SPEC"]).toContain(r.verdict);
    expect(r.verdict).toBe("VALID");
    expect(r.runs).toHaveLength(3);
  });

  it("Validate v3: consensus.replicas 3, aggregated verdict", async () => {
    const res = await fetch(`${ROUTER_URL}/api/v3/validate`, {
      method: "POST",
      headers: auth,
      body: `{
"request_id": "validate-demo-1",
"claim": {
"type": "api_result",
"description": "Check whether the result follows the requested policy.",
"output": "Candidate output to validate."
},
"consensus": {"replicas": 3},
"policy": {"tier": "safe"}
}`,
    });
    const r = RouterValidateResponse.parse(await body200(res));
    expect(r).toMatchObject({ version: "v3", request_id: "validate-demo-1" });
    expect(r.runs).toHaveLength(3);
  });

  it("Empty v3 pool: a tier with no configured mapping answers missing_v3_session_pool", async () => {
    const res = await fetch(`${ROUTER_URL}/api/v3/validate`, {
      method: "POST",
      headers: auth,
      body: '{"claim": {"type": "x", "output": "y"}, "consensus": {"replicas": 5}}',
    });
    expect(RouterErrorBody.parse(await res.json()).error.code).toBe("missing_v3_session_pool");
  });
});

describe("seed 002 — factcheck", () => {
  it("POST /api/v1/factcheck, standard mode", async () => {
    const res = await fetch(`${ROUTER_URL}/api/v1/factcheck`, {
      method: "POST",
      headers: auth,
      body: `{
"session_id": 68,
"mode": "standard",
"claim": {
"type": "network_roles",
"statement": "Cortensor supports router, miner, oracle, and validator roles."
},
"policy": {
"tier": "safe",
"redundancy": 3,
"task_redundancy": 1,
"timeout_ms": 120000,
"precommit_timeout": 90
}
}`,
    });
    const r = RouterFactcheckResponse.parse(await body200(res));
    expect(r.runs).toHaveLength(3);
  });
});

describe("seed 002 — privacy, trial and x402", () => {
  it("payload encryption key for a session, signed by the wallet (no router key)", async () => {
    const WALLET_ADDRESS = wallet.address;
    const PAYLOAD_KEY_SIGNATURE = await wallet.signMessage({ message: "68" });
    const res = await fetch(`${ROUTER_URL}/api/v1/auth/payload_enc_key/session`, {
      method: "POST",
      headers: json,
      body: `{
"address": "${WALLET_ADDRESS}",
"session_id": 68,
"signature": "${PAYLOAD_KEY_SIGNATURE}"
}
`,
    });
    expect(await body200(res)).toMatchObject({ session_id: 68, algorithm: "AES-256-GCM" });
  });

  it("trial routes of the table serve within the quota", async () => {
    const cases: Array<[string, string]> = [
      ["/api/v1/trial/completions/201", '{"prompt": "What is Cortensor?"}'],
      ["/api/v1/trial/delegate", '{"session_id": 201, "task_request_input": "hi"}'],
      ["/api/v2/trial/delegate", '{"session_id": 201, "objective": "hi"}'],
      [
        "/api/v1/trial/validate",
        '{"session_id": 201, "task_request_input": "q", "task_result_output": "a"}',
      ],
      [
        "/api/v2/trial/validate",
        '{"session_id": 201, "claim": {"type": "x", "description": "d", "output": "y"}}',
      ],
      ["/api/v1/trial/factcheck", '{"session_id": 201, "claim": "Water is wet."}'],
    ];
    for (const [path, body] of cases) {
      const res = await fetch(`${ROUTER_URL}${path}`, { method: "POST", headers: json, body });
      expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
    }
  });

  it("x402 routes return 402 Payment Required until the request includes a valid payment proof", async () => {
    const paths = [
      "/api/v1/x402/completions/201",
      "/api/v1/x402/delegate",
      "/api/v2/x402/delegate",
      "/api/v1/x402/validate",
      "/api/v2/x402/validate",
      "/api/v1/x402/factcheck",
    ];
    for (const path of paths) {
      const res = await fetch(`${ROUTER_URL}${path}`, {
        method: "POST",
        headers: json,
        body: "{}",
      });
      expect(res.status, path).toBe(402);
    }
    const res = await fetch(`${ROUTER_URL}/api/v1/x402/completions/201`, {
      method: "POST",
      headers: json,
      body: '{"prompt": "What is Cortensor?", "max_tokens": 160}',
    });
    const { accepts } = (await res.json()) as { accepts: Parameters<typeof signPayment>[0][] };
    const [req] = accepts;
    if (req === undefined) throw new Error("no accepts");
    const paid = await fetch(`${ROUTER_URL}/api/v1/x402/completions/201`, {
      method: "POST",
      headers: { ...json, "X-PAYMENT": (await signPayment(req)).header },
      body: '{"prompt": "What is Cortensor?", "max_tokens": 160}',
    });
    expect(paid.status).toBe(200);
    expect(paid.headers.get("x-payment-response")).not.toBeNull();
  });

  it("A2A discovery routes answer without a key", async () => {
    for (const path of [
      "/.well-known/agent.json",
      "/api/v1/a2a/agent.json",
      "/api/v1/a2a/discovery",
    ]) {
      expect((await fetch(`${ROUTER_URL}${path}`)).status, path).toBe(200);
    }
  });
});
