import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { eq, openDb, usageEvents } from "@portal/db";
import { afterAll, describe, expect, it } from "vitest";
import { generateApiKey } from "../src/services/api-keys.js";
import { readJson } from "../src/testing/harness.js";
import { portBlock } from "../src/testing/private-services.js";

// Graceful shutdown of the real gateway process (the `npm start` path): SIGTERM while a slow
// completion is in flight. Loopback only; every child is SIGKILLed in afterAll even on failure.

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
const running: ChildProcessWithoutNullStreams[] = [];
const dirs: string[] = [];

afterAll(() => {
  for (const p of running) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Product {
  proc: ChildProcessWithoutNullStreams;
  base: string;
  port: number;
  key: string;
  dataDir: string;
  output: () => string;
  /** The embedded routers listen on this port and the next (EMBEDDED_ROUTERS defaults to 2). */
  routerBasePort: number;
  exited: Promise<number | null>;
}

/** Start the gateway with its embedded routers and demo miners; resolve at the banner. */
async function startProduct(extraEnv: Record<string, string>): Promise<Product> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "portal-shutdown-e2e-"));
  dirs.push(dataDir);
  const key = generateApiKey();
  const routerBasePort = portBlock();
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.DATABASE_URL; // PGlite in the temp data dir, readable after exit
  delete env.REDIS_URL;
  Object.assign(env, {
    PORT: "0",
    PORTAL_DATA_DIR: dataDir,
    PORTAL_BOOTSTRAP_KEY: key,
    EMBEDDED_ROUTER_BASE_PORT: String(routerBasePort),
    EMBEDDED_MINERS_PER_ROUTER: "2",
    LOG_LEVEL: "warn",
    ...extraEnv,
  });
  const proc = spawn(process.execPath, ["--import", "tsx", "apps/gateway/src/main.ts"], {
    cwd: repoRoot,
    env,
  });
  running.push(proc);
  let out = "";
  proc.stderr.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner within 90 s:\n${out}`)), 90_000);
    proc.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (/Try it:[\s\S]*curl/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before ready:\n${out}`));
    });
  });
  const match = /listening on (http:\/\/\S+?):(\d+)/.exec(out);
  if (!match?.[1] || !match[2]) throw new Error(`no URL in banner:\n${out}`);
  return {
    proc,
    base: `${match[1]}:${match[2]}`,
    port: Number(match[2]),
    key,
    dataDir,
    output: () => out,
    exited,
    routerBasePort,
  };
}

/** A completion taking about max_tokens × DEMO_TOKEN_DELAY_MS; records when its answer came. */
async function slowCompletion(p: Product, maxTokens: number) {
  const res = await fetch(`${p.base}/v1/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${p.key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "default", prompt: "Drain me gently.", max_tokens: maxTokens }),
  });
  const body = await readJson(res);
  return { status: res.status, body, answeredAt: Date.now() };
}

/** GET on a brand-new TCP connection (no pooled socket), so a refusal means the listener is gone. */
function freshGet(port: number, urlPath: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: urlPath, agent: false }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => {
        body += d.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll until `probe` resolves true (bounded); returns whether it did. */
async function eventually(probe: () => Promise<boolean>, attempts = 100, everyMs = 20) {
  for (let i = 0; i < attempts; i++) {
    if (await probe()) return true;
    await sleep(everyMs);
  }
  return false;
}

/**
 * Poll the embedded routers until one holds an unfinished task: the completion is then really
 * in flight (a fixed sleep only guesses, and loses on a loaded machine).
 */
async function untilInFlight(p: Product) {
  const seen = await eventually(async () => {
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`http://127.0.0.1:${p.routerBasePort + i}/api/v1/tasks/0`, {
        headers: { authorization: "Bearer default-dev-token" },
      }).catch(() => undefined);
      if (!res?.ok) continue;
      const body = (await res.json()) as { tasks: Array<{ finished_at: string | null }> };
      if (body.tasks.some((t) => t.finished_at === null)) return true;
    }
    return false;
  }, 500);
  expect(seen, `no task in flight on the routers\n${p.output()}`).toBe(true);
}

describe("gateway graceful shutdown (real process)", () => {
  // Each test boots a full product (PGlite, routers, miners): give it more than the default.
  it("on SIGTERM turns /readyz 503, stops accepting, finishes the in-flight completion, flushes its usage and exits 0", {
    timeout: 120_000,
  }, async () => {
    const p = await startProduct({
      DEMO_TOKEN_DELAY_MS: "50",
      SHUTDOWN_DELAY_MS: "600",
      SHUTDOWN_TIMEOUT_MS: "15000",
      // Long enough that only the shutdown flush can have written the usage row.
      USAGE_FLUSH_INTERVAL_MS: "60000",
    });
    const ready = await freshGet(p.port, "/readyz");
    expect(ready.status, ready.body).toBe(200);

    // 40 tokens × 50 ms ≈ 2 s upstream; SIGTERM lands while it is in flight.
    const inFlight = slowCompletion(p, 40);
    await untilInFlight(p);
    const sigtermAt = Date.now();
    p.proc.kill("SIGTERM");

    // During SHUTDOWN_DELAY_MS the listener still accepts, and readiness says go away.
    let draining: { status: number; body: string } | undefined;
    const saw503 = await eventually(async () => {
      draining = await freshGet(p.port, "/readyz").catch(() => undefined);
      return draining?.status === 503;
    });
    expect(saw503, `last /readyz: ${JSON.stringify(draining)}\n${p.output()}`).toBe(true);
    expect(JSON.parse(draining?.body ?? "{}")).toMatchObject({
      status: "unavailable",
      reason: "shutting_down",
    });
    const live = await freshGet(p.port, "/livez");
    expect(live.status, live.body).toBe(200);

    // Then new connections are refused while the completion is still being served. A connection
    // that raced the listener's close can be reset instead (it sat in the accept backlog); poll
    // on until one is refused outright.
    let refusal: unknown;
    const refused = await eventually(async () => {
      try {
        await freshGet(p.port, "/livez");
        return false;
      } catch (err) {
        refusal = err;
        return (err as { code?: string }).code === "ECONNREFUSED";
      }
    }, 150);
    expect(refused, `${String(refusal)}\n${p.output()}`).toBe(true);
    expect(refusal).toMatchObject({ code: "ECONNREFUSED" });

    const done = await inFlight;
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body).toMatchObject({ status: "ok", model: "default", error: null });
    expect(done.body.data.usage.completion_tokens).toBe(40);
    // The answer really arrived after SIGTERM, so the drain (not luck) carried it.
    expect(done.answeredAt).toBeGreaterThan(sigtermAt);

    // Exit 0 means the drain finished inside SHUTDOWN_TIMEOUT_MS (past it the process exits 1).
    expect(await p.exited, p.output()).toBe(0);

    const handle = await openDb({ dataDir: path.join(p.dataDir, "pglite") });
    try {
      const rows = await handle.db
        .select()
        .from(usageEvents)
        .where(eq(usageEvents.requestId, done.body.request_id));
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ status: "ok", modelAlias: "default", completionTokens: 40 });
    } finally {
      await handle.close();
    }
  });

  it("exits 1 at SHUTDOWN_TIMEOUT_MS when an in-flight request outlasts the bound", {
    timeout: 120_000,
  }, async () => {
    const p = await startProduct({
      DEMO_TOKEN_DELAY_MS: "100",
      SHUTDOWN_TIMEOUT_MS: "1000",
    });
    // 100 tokens × 100 ms ≈ 10 s, far beyond the 1 s bound; its connection dies with the process.
    const inFlight = slowCompletion(p, 100).catch((err: unknown) => err);
    await untilInFlight(p);
    p.proc.kill("SIGTERM");
    expect(await p.exited, p.output()).toBe(1);
    expect(p.output()).toContain("shutdown bound exceeded");
    expect(await inFlight).toBeInstanceOf(Error);
  });
});
