import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RouterConfig } from "../config.js";
import { HttpFacilitator } from "../core/x402/facilitator.js";
import type { PaymentRequirements } from "../core/x402/types.js";
import { startTestRouter, type TestRouter } from "../testing/harness.js";
import { payer, signPayment } from "../testing/x402-client.js";

/** A local facilitator stand-in: records every request and answers what the test scripts. */
interface Recorded {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: unknown;
}
type Script = (path: string, body: unknown) => { status: number; body: string };

let server: Server;
let facilitatorUrl: string;
const recorded: Recorded[] = [];
const ok = (path: string): { status: number; body: string } =>
  path.endsWith("/verify")
    ? { status: 200, body: JSON.stringify({ isValid: true, payer: payer.address }) }
    : {
        status: 200,
        body: JSON.stringify({
          success: true,
          transaction: `0x${"ab".repeat(32)}`,
          network: "base-sepolia",
          payer: payer.address,
        }),
      };
let script: Script = ok;

const PAY_TO = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
const config: RouterConfig = {
  sessions: [{ id: 0, model: "demo", mode: "ephemeral" }],
  default_session_id: 0,
  x402: { enabled: true, network: "base-sepolia", pay_to: PAY_TO },
};
let t: TestRouter;

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = "";
    req.on("data", (d: Buffer) => {
      raw += d.toString();
    });
    req.on("end", () => {
      let body: unknown = raw;
      try {
        body = JSON.parse(raw);
      } catch {}
      recorded.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body });
      const out = script(req.url ?? "", body);
      res.writeHead(out.status, { "Content-Type": "application/json" });
      res.end(out.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  facilitatorUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/facilitator/`;
  t = await startTestRouter(
    {
      config,
      x402Facilitator: new HttpFacilitator(facilitatorUrl, { Authorization: "Bearer fac-key" }),
    },
    1,
  );
});
afterEach(() => {
  recorded.length = 0;
  script = ok;
});
afterAll(async () => {
  await t.close();
  await new Promise<void>((r) => server.close(() => r()));
});

async function requirements(): Promise<PaymentRequirements> {
  const res = await fetch(`${t.node.url}/api/v1/x402/ping`);
  const body = (await res.json()) as { accepts: PaymentRequirements[] };
  const [req] = body.accepts;
  if (req === undefined) throw new Error("no accepts");
  return req;
}

const ping = (header: string) =>
  fetch(`${t.node.url}/api/v1/x402/ping`, { headers: { "X-PAYMENT": header } });
const decode = (h: string | null) => JSON.parse(Buffer.from(h ?? "", "base64").toString("utf8"));

describe("HttpFacilitator against a local facilitator", () => {
  it("a paid request calls POST /verify then POST /settle with the v1 body and the auth header", async () => {
    const req = await requirements();
    const { header, nonce } = await signPayment(req);
    const res = await ping(header);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(recorded.map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /facilitator/verify",
      "POST /facilitator/settle",
    ]);
    for (const r of recorded) {
      expect(r.headers.authorization).toBe("Bearer fac-key");
      expect(r.headers["content-type"]).toContain("application/json");
      expect(r.body).toMatchObject({
        x402Version: 1,
        paymentPayload: {
          x402Version: 1,
          scheme: "exact",
          network: "base-sepolia",
          payload: { authorization: { from: payer.address, nonce, value: "1000" } },
        },
        paymentRequirements: { ...req },
      });
    }
    expect(decode(res.headers.get("x-payment-response"))).toEqual({
      success: true,
      transaction: `0x${"ab".repeat(32)}`,
      network: "base-sepolia",
      payer: payer.address,
    });
  });

  it("verify refusing (insufficient_funds) answers 402 with that reason, runs nothing, settles nothing, and frees the nonce", async () => {
    const req = await requirements();
    const { header } = await signPayment(req);
    script = (path) =>
      path.endsWith("/verify")
        ? {
            status: 200,
            body: JSON.stringify({ isValid: false, invalidReason: "insufficient_funds" }),
          }
        : ok(path);
    const res = await ping(header);
    const body = (await res.json()) as { error: string; accepts: unknown[] };
    expect(res.status).toBe(402);
    expect(body.error).toBe("insufficient_funds");
    expect(body.accepts).toHaveLength(1);
    expect(recorded.map((r) => r.path)).toEqual(["/facilitator/verify"]);
    // Once funded, the same authorization is accepted (the nonce was not burnt by the refusal).
    script = ok;
    expect((await ping(header)).status).toBe(200);
  });

  it("a settle failure is a 402 with the facilitator's reason and no receipt", async () => {
    const req = await requirements();
    script = (path) =>
      path.endsWith("/settle")
        ? {
            status: 200,
            body: JSON.stringify({
              success: false,
              errorReason: "invalid_transaction_state",
              transaction: "",
              network: "base-sepolia",
              payer: payer.address,
            }),
          }
        : ok(path);
    const res = await ping((await signPayment(req)).header);
    expect(res.status).toBe(402);
    expect(((await res.json()) as { error: string }).error).toBe("invalid_transaction_state");
    expect(res.headers.get("x-payment-response")).toBeNull();
  });

  it("facilitator HTTP errors, non-JSON answers and an unreachable facilitator are refused cleanly", async () => {
    const req = await requirements();
    script = () => ({ status: 500, body: "<html>oops</html>" });
    const broken = await ping((await signPayment(req)).header);
    expect(broken.status).toBe(402);
    expect(((await broken.json()) as { error: string }).error).toBe(
      "unexpected_verify_error: facilitator HTTP 500",
    );

    script = (path) => (path.endsWith("/settle") ? { status: 502, body: "bad gateway" } : ok(path));
    const settleDown = await ping((await signPayment(req)).header);
    expect(settleDown.status).toBe(402);
    expect(((await settleDown.json()) as { error: string }).error).toBe(
      "unexpected_settle_error: facilitator HTTP 502",
    );

    const unreachable = new HttpFacilitator("http://127.0.0.1:9/", {}, 2000);
    const { header } = await signPayment(req);
    const payload = JSON.parse(Buffer.from(header, "base64").toString("utf8"));
    const verdict = await unreachable.verify(payload, req);
    expect(verdict.isValid).toBe(false);
    expect(verdict.invalidReason).toMatch(/^unexpected_verify_error: /);
    await expect(unreachable.settle(payload, req)).rejects.toThrow();
  });
});
