import { connect } from "node:net";
import { desc, eq, requestLogs } from "@portal/db";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createTenant, createTestGateway, type TestGateway } from "../testing/harness.js";
import { listen } from "../testing/sse.js";

// A client that hangs up halfway through its body used to be logged as an unhandled error and
// recorded as a 500 internal_error (request log and metrics), so anyone could inflate the
// gateway's error rate. It is a client's doing: recorded as 499, no error code, logged at info.

let gw: TestGateway;
let port: number;
let http: Awaited<ReturnType<typeof listen>>;
beforeAll(async () => {
  gw = await createTestGateway();
  http = await listen(gw);
  port = Number(new URL(http.url).port);
});
afterAll(async () => {
  await http.close();
  await gw.close();
});

/** Declare 100 bytes, send a few, hang up. */
function hangUpMidBody(path: string, headers: Record<string, string>) {
  return new Promise<void>((resolve) => {
    const socket = connect(port, "127.0.0.1", () => {
      const head = Object.entries({ ...headers, "content-type": "application/json" })
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join("");
      socket.write(
        `POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n${head}\r\n{"model"`,
      );
      setTimeout(() => {
        socket.destroy();
        resolve();
      }, 100);
    });
  });
}

async function lastLog(route: string, orgId?: string) {
  await gw.services.requestLogs.flush();
  const rows = await gw.dbHandle.db
    .select()
    .from(requestLogs)
    .where(eq(requestLogs.route, route))
    .orderBy(desc(requestLogs.createdAt))
    .limit(5);
  return rows.find((r) => orgId === undefined || r.orgId === orgId);
}

describe("a client that hangs up mid-body", () => {
  it("is recorded as 499 without an error code, on the native and OpenAI routes", async () => {
    const t = await createTenant(gw);
    await hangUpMidBody("/v1/completions", { authorization: `Bearer ${t.key}` });
    await vi.waitFor(async () => {
      const row = await lastLog("/v1/completions", t.orgId);
      expect(row).toMatchObject({ httpStatus: 499, errorCode: null, apiKeyId: t.keyId });
    });
    await hangUpMidBody("/v1/chat/completions", { authorization: `Bearer ${t.key}` });
    await vi.waitFor(async () => {
      expect(await lastLog("/v1/chat/completions", t.orgId)).toMatchObject({ httpStatus: 499 });
    });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/portal_http_requests_total\{[^}]*status="499"[^}]*\} [1-9]/);
    expect(metrics).not.toMatch(/portal_http_requests_total\{[^}]*status="500"/);
  });

  it("leaves the gateway serving", async () => {
    const t = await createTenant(gw);
    for (let i = 0; i < 5; i++) {
      await hangUpMidBody("/v1/completions", { authorization: `Bearer ${t.key}` });
    }
    const res = await fetch(`http://127.0.0.1:${port}/v1/models`, {
      headers: { authorization: `Bearer ${t.key}` },
    });
    expect(res.status).toBe(200);
  });
});
