import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { newId } from "@portal/contracts";
import { eq, openDb, usageEvents } from "@portal/db";
import { testDatabaseUrl } from "@portal/db/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateApiKey } from "../src/services/api-keys.js";
import { bootstrap } from "../src/services/bootstrap.js";
import { SecretBox } from "../src/services/secret-box.js";
import { startFixtureRouter } from "../src/testing/fixture-router.js";
import { freePort, PrivateRedis } from "../src/testing/private-services.js";
import { repoRoot, sleep, waitForOk } from "./processes.js";

// The production artifacts, as the container images run them: `scripts/build.mjs` bundles, run
// with plain `node` (no tsx), migrations resolved from the bundle's own location.

const run = promisify(execFile);
const dirs: string[] = [];
const procs: ChildProcess[] = [];

function tempDir(prefix: string): string {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** The embedded defaults (PGlite, in-process limits) unless `extra` names a database or Redis. */
function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: "warn" };
  delete e.DATABASE_URL;
  delete e.REDIS_URL;
  return { ...e, ...extra };
}

function start(bundle: string, extra: Record<string, string>): ChildProcess {
  const p = spawn(process.execPath, [bundle], { cwd: repoRoot, env: env(extra), stdio: "ignore" });
  procs.push(p);
  return p;
}

const exited = (p: ChildProcess) =>
  new Promise<number | null>((resolve) =>
    p.exitCode !== null ? resolve(p.exitCode) : p.once("exit", (code) => resolve(code)),
  );

beforeAll(async () => {
  await run(process.execPath, ["scripts/build.mjs"], { cwd: repoRoot });
}, 120_000);

afterAll(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  for (const app of ["gateway", "router", "miner"]) {
    rmSync(path.join(repoRoot, "apps", app, "dist"), { recursive: true, force: true });
  }
});

describe("production bundles (node apps/*/dist/*.mjs)", () => {
  it("router + miner + gateway start from their bundles, serve, and stop cleanly on SIGTERM", async () => {
    const routerPort = await freePort();
    const router = start("apps/router/dist/main.mjs", {
      ROUTER_PORT: String(routerPort),
      ROUTER_DATA_DIR: tempDir("portal-bundle-router-"),
    });
    const routerUrl = `http://127.0.0.1:${routerPort}`;
    await waitForOk(`${routerUrl}/livez`);
    const miner = start("apps/miner/dist/main.mjs", {
      MINER_ROUTER_URL: `ws://127.0.0.1:${routerPort}/ws/miners`,
      MINER_ID: "bundle-miner",
    });
    let connected = 0;
    for (let i = 0; i < 300 && connected !== 1; i++) {
      const status = (await fetch(`${routerUrl}/api/v1/status`, {
        headers: { authorization: "Bearer default-dev-token" },
      }).then((r) => r.json())) as { miners?: { connected?: number } };
      connected = status.miners?.connected ?? 0;
      if (connected !== 1) await sleep(100);
    }
    expect(connected).toBe(1);
    const done = await fetch(`${routerUrl}/api/v1/completions`, {
      method: "POST",
      headers: { authorization: "Bearer default-dev-token", "content-type": "application/json" },
      body: JSON.stringify({ prompt: "bundle", max_tokens: 4 }),
    });
    const body = (await done.json()) as { choices?: Array<{ text: string }> };
    expect(done.status, JSON.stringify(body)).toBe(200);
    expect(body.choices?.[0]?.text.trim().split(" ")).toHaveLength(4);

    const gatewayPort = await freePort();
    const gateway = start("apps/gateway/dist/main.mjs", {
      PORT: String(gatewayPort),
      EMBEDDED_ROUTERS: "0",
      PORTAL_DATA_DIR: tempDir("portal-bundle-gw-"),
    });
    await waitForOk(`http://127.0.0.1:${gatewayPort}/readyz`, 90_000);
    const health = (await fetch(`http://127.0.0.1:${gatewayPort}/health`).then((r) =>
      r.json(),
    )) as { status: string };
    expect(health.status).toBe("ok");

    for (const p of [gateway, miner, router]) p.kill("SIGTERM");
    expect(await Promise.all([gateway, miner, router].map(exited))).toEqual([0, 0, 0]);
  }, 120_000);

  it("the CLI bundle migrates an empty embedded database and answers --json", async () => {
    const dataDir = tempDir("portal-bundle-cli-");
    const cli = (...args: string[]) =>
      run(process.execPath, ["apps/gateway/dist/cli.mjs", ...args], {
        cwd: repoRoot,
        env: env({ PORTAL_DATA_DIR: dataDir }),
      });
    const migrated = await cli("migrate", "--json");
    expect(JSON.parse(migrated.stdout)).toEqual({ migrated: true, database: "pglite" });
    const orgs = await cli("orgs", "list", "--json");
    expect(JSON.parse(orgs.stdout)).toEqual({ data: [] });
    await expect(cli("no-such-command")).rejects.toMatchObject({ code: 2 });
  }, 60_000);

  // USAGE_WRITER=thread (with Postgres and Redis) runs the usage writer in a worker thread,
  // started from dist/usage-writer.mjs: a served request's usage row must arrive through it.
  it.skipIf(!testDatabaseUrl())(
    "the gateway bundle with Postgres + Redis writes usage from its writer thread",
    async () => {
      const admin = new URL(testDatabaseUrl() as string);
      const name = `portal_bundle_${newId("req").slice(4).toLowerCase()}`;
      const client = new pg.Client({ connectionString: admin.toString() });
      await client.connect();
      await client.query(`CREATE DATABASE ${name}`);
      const url = new URL(admin);
      url.pathname = `/${name}`;
      const redis = await PrivateRedis.start();
      const router = await startFixtureRouter({ promptTokens: 1 });
      const db = await openDb({ url: url.toString(), poolSize: 2 });
      try {
        await db.migrate();
        const encryptionKey = randomBytes(32).toString("hex");
        const apiKey = generateApiKey();
        const boot = await bootstrap(db.db, new SecretBox(Buffer.from(encryptionKey, "hex")), {
          email: "ops@portal.test",
          fixedKey: apiKey,
          targets: [{ url: router.url, sessionId: 0, routerKey: "fixture" }],
        });
        if (!boot) throw new Error("fresh database was not bootstrapped");
        const port = await freePort();
        const gateway = start("apps/gateway/dist/main.mjs", {
          PORT: String(port),
          DATABASE_URL: url.toString(),
          REDIS_URL: redis.url,
          USAGE_WRITER: "thread",
          EMBEDDED_ROUTERS: "0",
          PORTAL_ENCRYPTION_KEY: encryptionKey,
          PORTAL_DATA_DIR: tempDir("portal-bundle-pg-"),
        });
        const base = `http://127.0.0.1:${port}`;
        await waitForOk(`${base}/readyz`, 90_000);
        const res = await fetch(`${base}/v1/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
          body: JSON.stringify({ model: "default", prompt: "hello", max_tokens: 4 }),
        });
        const body = (await res.json()) as { request_id: string; status: string };
        expect(res.status, JSON.stringify(body)).toBe(200);
        const rows = () =>
          db.db
            .select({ requestId: usageEvents.requestId })
            .from(usageEvents)
            .where(eq(usageEvents.orgId, boot.orgId));
        await expect.poll(rows, { timeout: 20_000 }).toEqual([{ requestId: body.request_id }]);
        gateway.kill("SIGTERM");
        expect(await exited(gateway)).toBe(0);
      } finally {
        await db.close();
        await router.close();
        await redis.destroy();
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await client.end();
      }
    },
    120_000,
  );
});
