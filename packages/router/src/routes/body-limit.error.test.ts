import { request } from "node:http";
import { RouterErrorBody } from "@portal/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_MAX_BODY_BYTES } from "../core/router-core.js";
import { AUTH, startTestRouter, type TestRouter } from "../testing/harness.js";

// Router nodes used to buffer a body of any size, public routes included: 300 MB took the
// process from 0.5 to 1.7 GB, 600 MB answered 500 (a string past V8's limit). Now a body over
// `maxBodyBytes` is 413 payload_too_large before the key check and before it is read.

const LIMIT = 64 * 1024;
let t: TestRouter;
beforeAll(async () => {
  t = await startTestRouter({ maxBodyBytes: LIMIT }, 1);
});
afterAll(() => t.close());

/** Send `size` bytes (declared up front, or chunked) over a raw request; the router's answer. */
function send(path: string, size: number, opts: { chunked?: boolean; auth?: boolean } = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const url = new URL(path, t.node.url);
    const headers: Record<string, string | number> = { "content-type": "application/json" };
    if (opts.auth) headers.authorization = AUTH.Authorization;
    if (!opts.chunked) headers["content-length"] = size;
    const req = request(url, { method: "POST", headers }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => {
        body += d.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    // The router may answer and close before the whole body is sent; that is the point.
    req.on("error", (err) =>
      (err as { code?: string }).code === "EPIPE" ? undefined : reject(err),
    );
    const chunk = Buffer.alloc(16 * 1024, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const n = Math.min(chunk.length, size - sent);
        sent += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          req.once("drain", pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

function expectTooLarge(r: { status: number; body: string }) {
  expect(r.status, r.body).toBe(413);
  expect(RouterErrorBody.parse(JSON.parse(r.body)).error).toEqual({
    code: "payload_too_large",
    message: `request body exceeds ${LIMIT} bytes`,
    details: { limit_bytes: LIMIT },
  });
}

describe("request body limit", () => {
  it("refuses a declared oversize body on a public route without reading it", async () => {
    expectTooLarge(await send("/api/v3/offchain/result", 50 * 1024 * 1024));
  });

  it("refuses an oversize chunked body as it streams, with or without the key", async () => {
    expectTooLarge(await send("/api/v3/offchain/result", LIMIT + 1, { chunked: true }));
    expectTooLarge(await send("/api/v1/completions", 2 * LIMIT, { chunked: true, auth: true }));
    expectTooLarge(await send("/api/v1/a2a", 2 * LIMIT, { auth: true }));
  });

  it("refuses a compressed body with a clear reason instead of misreading it", async () => {
    const res = await t.post("/api/v1/completions", "\u001f\u008b\b\u0000", {
      "content-encoding": "gzip",
    });
    expect(res.status).toBe(400);
    expect(RouterErrorBody.parse(await res.json()).error).toEqual({
      code: "invalid_request",
      message:
        'Content-Encoding "gzip" is not supported on request bodies; send the body uncompressed',
      details: { content_encoding: "gzip" },
    });
    const plain = await t.post("/api/v1/completions", JSON.stringify({ prompt: "hi" }), {
      "content-encoding": "identity",
    });
    expect(plain.status).toBe(200);
  });

  it("serves a body just under the limit", async () => {
    const json = JSON.stringify({ prompt: "hi", max_tokens: 4 });
    const res = await t.post("/api/v1/completions", json + " ".repeat(LIMIT - json.length));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ object: "text_completion" });
  });

  it("defaults to 4 MiB, above the largest body the route schemas allow", () => {
    expect(DEFAULT_MAX_BODY_BYTES).toBe(4 * 1024 * 1024);
    expect(DEFAULT_MAX_BODY_BYTES).toBeGreaterThan(3 * 1_000_000);
  });
});
