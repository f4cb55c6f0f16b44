import { RouterCompletionResponse, RouterErrorBody } from "@portal/contracts";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RouterConfig } from "../config.js";
import { LocalFacilitator } from "../core/x402/facilitator.js";
import type { PaymentRequirements } from "../core/x402/types.js";
import { startTestRouter, type TestRouter } from "../testing/harness.js";
import { payer, signPayment } from "../testing/x402-client.js";

const PAY_TO = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
const config: RouterConfig = {
  sessions: [
    { id: 0, model: "demo", mode: "ephemeral" },
    { id: 16, model: "demo", mode: "ephemeral" },
  ],
  default_session_id: 0,
  x402: {
    enabled: true,
    network: "base-sepolia",
    pay_to: PAY_TO,
    price_default: "0.001",
    price_completions: "0.002",
    sessions: { completions: 16 },
  },
};

let t: TestRouter;
const facilitator = new LocalFacilitator();
beforeAll(async () => {
  t = await startTestRouter({ config, x402Facilitator: facilitator }, 2);
});
afterAll(() => t.close());

type Challenge = { x402Version: number; error: string; accepts: PaymentRequirements[] };

async function challenge(path: string, body?: unknown): Promise<Challenge> {
  const res = await send(path, body);
  const json = (await res.json()) as Challenge;
  expect(res.status, JSON.stringify(json)).toBe(402);
  return json;
}

function send(path: string, body?: unknown, payment?: string): Promise<Response> {
  return fetch(`${t.node.url}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: payment === undefined ? {} : { "X-PAYMENT": payment },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
}

const decode = (h: string | null) => JSON.parse(Buffer.from(h ?? "", "base64").toString("utf8"));

describe("x402 — the 402 challenge", () => {
  it("without X-PAYMENT answers 402 with the v1 accepts body (no API key needed)", async () => {
    const c = await challenge("/api/v1/x402/completions", { prompt: "hi" });
    expect(c).toMatchObject({ x402Version: 1, error: "X-PAYMENT header is required" });
    expect(c.accepts).toEqual([
      {
        scheme: "exact",
        network: "base-sepolia",
        maxAmountRequired: "2000",
        asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
        payTo: PAY_TO,
        resource: `${t.node.url}/api/v1/x402/completions`,
        description: "Portal router /api/v1/x402/completions",
        mimeType: "application/json",
        outputSchema: null,
        maxTimeoutSeconds: 300,
        extra: { name: "USDC", version: "2" },
      },
    ]);
    const ping = await challenge("/api/v1/x402/ping");
    expect(ping.accepts[0]?.maxAmountRequired).toBe("1000");
  });
});

describe("x402 — paid requests", () => {
  it("a valid payment runs the route (fixed session), settles, and answers X-PAYMENT-RESPONSE", async () => {
    const [req] = (await challenge("/api/v1/x402/completions/0", { prompt: "paid" })).accepts;
    if (req === undefined) throw new Error("no accepts");
    const { header, nonce } = await signPayment(req);
    const res = await send("/api/v1/x402/completions/0", { prompt: "paid" }, header);
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(200);
    // The fixed x402 completions session wins over the caller's path session.
    expect(RouterCompletionResponse.parse(body).session_id).toBe(16);
    const receipt = decode(res.headers.get("x-payment-response"));
    expect(receipt).toMatchObject({ success: true, network: "base-sepolia", payer: payer.address });
    expect(receipt.transaction).toMatch(/^0x[0-9a-f]{64}$/);
    expect(res.headers.get("access-control-expose-headers")).toContain("X-PAYMENT-RESPONSE");
    expect(facilitator.settled.at(-1)).toMatchObject({ nonce, value: "2000" });
  });

  it("delegate, validate, factcheck and ping x402 routes take payments too", async () => {
    const cases: Array<[string, unknown]> = [
      ["/api/v1/x402/ping", undefined],
      ["/api/v2/x402/delegate", { objective: "Summarize routers." }],
      ["/api/v2/x402/validate", { claim: { type: "x", description: "d", output: "ok" } }],
      ["/api/v1/x402/fact-check", { session_id: 0, claim: "Water is wet." }],
    ];
    for (const [path, body] of cases) {
      const [req] = (await challenge(path, body)).accepts;
      if (req === undefined) throw new Error("no accepts");
      const res = await send(path, body, (await signPayment(req)).header);
      expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
      expect(decode(res.headers.get("x-payment-response")).success).toBe(true);
    }
  });
});

describe("x402 — bad payments", () => {
  let req: PaymentRequirements;
  beforeAll(async () => {
    const [r] = (await challenge("/api/v1/x402/ping")).accepts;
    if (r === undefined) throw new Error("no accepts");
    req = r;
  });

  async function refused(header: string, reason: string): Promise<void> {
    const res = await send("/api/v1/x402/ping", undefined, header);
    const body = (await res.json()) as Challenge;
    expect(res.status, JSON.stringify(body)).toBe(402);
    expect(body.error).toBe(reason);
    expect(body.accepts).toHaveLength(1);
    expect(res.headers.get("x-payment-response")).toBeNull();
  }

  it("a replayed nonce is refused (402)", async () => {
    const { header } = await signPayment(req);
    expect((await send("/api/v1/x402/ping", undefined, header)).status).toBe(200);
    await refused(header, "invalid_exact_evm_payload_authorization_nonce");
  });

  it("underpaid, expired, not-yet-valid, wrong payee, wrong network, wrong signer: 402 with the reason", async () => {
    await refused(
      (await signPayment(req, { value: "999" })).header,
      "invalid_exact_evm_payload_authorization_value",
    );
    const now = Math.floor(Date.now() / 1000);
    await refused(
      (await signPayment(req, { validBefore: now + 2 })).header,
      "invalid_exact_evm_payload_authorization_valid_before",
    );
    await refused(
      (await signPayment(req, { validAfter: now + 120 })).header,
      "invalid_exact_evm_payload_authorization_valid_after",
    );
    await refused(
      (await signPayment(req, { to: privateKeyToAccount(generatePrivateKey()).address })).header,
      "invalid_exact_evm_payload_recipient_mismatch",
    );
    await refused((await signPayment(req, { network: "base" })).header, "invalid_network");
    // Signed by another key than authorization.from, or for another chain: the signature fails.
    const stranger = privateKeyToAccount(generatePrivateKey());
    await refused(
      (await signPayment(req, { signer: stranger })).header,
      "invalid_exact_evm_payload_signature",
    );
    await refused(
      (await signPayment(req, { chainId: 8453 })).header,
      "invalid_exact_evm_payload_signature",
    );
  });

  it("an X-PAYMENT that is not base64 JSON of a v1 payload is 400 invalid_payment", async () => {
    for (const header of [
      "%%%",
      Buffer.from("not json").toString("base64"),
      Buffer.from("{}").toString("base64"),
    ]) {
      const res = await send("/api/v1/x402/ping", undefined, header);
      const body = RouterErrorBody.parse(await res.json());
      expect(res.status).toBe(400);
      expect(body.error.code).toBe("invalid_payment");
    }
  });

  it("a paid request that fails is not settled and its nonce can be used again", async () => {
    const [creq] = (await challenge("/api/v2/x402/validate", { claim: {} })).accepts;
    if (creq === undefined) throw new Error("no accepts");
    const before = facilitator.settled.length;
    const { header } = await signPayment(creq);
    const bad = await send("/api/v2/x402/validate", { claim: {} }, header);
    expect(bad.status).toBe(400);
    expect(facilitator.settled.length).toBe(before);
    const good = await send(
      "/api/v2/x402/validate",
      { claim: { type: "x", description: "d", output: "fine" } },
      header,
    );
    expect(good.status).toBe(200);
    expect(facilitator.settled.length).toBe(before + 1);
  });
});

describe("x402 — disabled", () => {
  it("x402 routes are 404 when x402 is not enabled", async () => {
    const off = await startTestRouter({}, 0);
    try {
      const res = await fetch(`${off.node.url}/api/v1/x402/ping`);
      expect(res.status).toBe(404);
    } finally {
      await off.close();
    }
  });
});
