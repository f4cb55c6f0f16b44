import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { eq, openDb, usageEvents } from "@portal/db";
import { afterAll, describe, expect, it } from "vitest";
import { generateApiKey } from "../src/services/api-keys.js";
import { readJson } from "../src/testing/harness.js";
import { portBlock } from "../src/testing/private-services.js";
import { killAll, type Proc, spawnEntry, waitForOutput } from "./processes.js";

const dataDir = mkdtempSync(path.join(tmpdir(), "portal-e2e-"));
const routerBasePort = portBlock();
const fixedKey = generateApiKey();

afterAll(() => {
  killAll();
  rmSync(dataDir, { recursive: true, force: true });
});

/** One raw HTTP/1.1 exchange (for requests fetch would refuse to send). */
function rawHttp(port: number, request: string) {
  return new Promise<{ status: number; head: string; body: string }>((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(request));
    let data = "";
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      data += d;
      const end = data.indexOf("\r\n\r\n");
      if (end === -1) return;
      const head = data.slice(0, end);
      const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? Number.NaN);
      const body = data.slice(end + 4);
      if (Number.isNaN(length) || body.length < length) return;
      socket.destroy();
      resolve({ status: Number(head.split(" ")[1]), head, body: body.slice(0, length) });
    });
    socket.on("error", reject);
    setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer: ${JSON.stringify(data.slice(0, 300))}`));
    }, 10_000).unref();
  });
}

/** Start the product the way `npm start` does (embedded defaults) and wait for its banner. */
async function startProduct(): Promise<{ proc: Proc; base: string; banner: string }> {
  const proc = spawnEntry("gateway", "apps/gateway/src/main.ts", {
    PORT: "0",
    PORTAL_DATA_DIR: dataDir,
    PORTAL_BOOTSTRAP_KEY: fixedKey,
    EMBEDDED_ROUTER_BASE_PORT: String(routerBasePort),
    DEMO_TOKEN_DELAY_MS: "0",
    LOG_LEVEL: "warn",
  });
  const ready = await waitForOutput(proc, /listening on (http:\/\/\S+)[\s\S]*Try it:[\s\S]*curl/);
  return { proc, base: ready[1] as string, banner: proc.output() };
}

/** Ctrl-C; resolves with the exit code. */
function stop(proc: Proc): Promise<number | null> {
  return proc.kill("SIGINT");
}

async function complete(base: string, key: string) {
  const res = await fetch(`${base}/v1/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: "default",
      prompt: "Explain decentralized AI inference in one paragraph.",
      max_tokens: 32,
    }),
  });
  return { status: res.status, body: await readJson(res) };
}

describe("npm start (embedded stack) end to end", () => {
  it("bootstraps, completes through gateway → router → miner, records usage, and restarts without re-bootstrapping", async () => {
    const first = await startProduct();
    expect(first.banner).toContain(fixedKey);
    expect(first.banner).toContain("curl -s");

    const health = await readJson(await fetch(`${first.base}/health`));
    expect(health.pools).toContainEqual({ name: "default", state: "active", healthy: 2, total: 2 });

    const models = await readJson(
      await fetch(`${first.base}/v1/models`, { headers: { authorization: `Bearer ${fixedKey}` } }),
    );
    expect(models.data.map((m: { id: string }) => m.id)).toEqual(["default"]);

    const { status, body } = await complete(first.base, fixedKey);
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({
      status: "ok",
      model: "default",
      router_pool: "default",
      error: null,
    });
    expect(body.data.choices[0].text.length).toBeGreaterThan(0);
    expect(body.data.usage.cost.currency).toBe("USD");

    const bad = await complete(first.base, generateApiKey());
    expect(bad.status).toBe(401);

    // Requests node-server cannot even read get the error shape too, not an empty 400: the
    // gateway's envelope, and the router's error body on an embedded router's port.
    const gatewayPort = Number(new URL(first.base).port);
    for (const raw of [
      "GET * HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /v1/models HTTP/1.1\r\nHost: a b\r\n\r\n",
    ]) {
      const answer = await rawHttp(gatewayPort, raw);
      expect(answer.status, raw).toBe(400);
      expect(JSON.parse(answer.body), raw).toMatchObject({
        status: "failed",
        error: { code: "invalid_request" },
      });
      expect(answer.head, raw).toMatch(/x-request-id: req_/i);
    }
    // Expect: 100-continue with a bad key: the 401 is the whole answer, before any upload (no
    // `100 Continue` that would make the client send a body only to have it refused).
    const refused = await rawHttp(
      gatewayPort,
      "POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\n" +
        "Content-Type: application/json\r\nContent-Length: 900000\r\nExpect: 100-continue\r\n\r\n",
    );
    expect(refused.head).toMatch(/^HTTP\/1\.1 401 /);
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: "unauthorized" } });
    const routerAnswer = await rawHttp(routerBasePort, "GET * HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(routerAnswer.status).toBe(400);
    expect(JSON.parse(routerAnswer.body)).toMatchObject({ error: { code: "invalid_request" } });

    // Ctrl-C flushes pending usage before exiting.
    expect(await stop(first.proc)).toBe(0);
    const handle = await openDb({ dataDir: path.join(dataDir, "pglite") });
    try {
      const rows = await handle.db
        .select()
        .from(usageEvents)
        .where(eq(usageEvents.requestId, body.request_id));
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ status: "ok", modelAlias: "default", routerPool: "default" });
    } finally {
      await handle.close();
    }

    const second = await startProduct();
    expect(second.banner).toContain("Existing data reused");
    expect(second.banner).not.toContain(fixedKey);
    const again = await complete(second.base, fixedKey);
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(await stop(second.proc)).toBe(0);
  });
});
