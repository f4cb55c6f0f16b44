import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { auditLog, desc, openDb } from "@portal/db";
import { testDatabaseUrl } from "@portal/db/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateApiKey } from "../src/services/api-keys.js";
import { freePort, portBlock } from "../src/testing/private-services.js";
import { testRedisUrl } from "../src/testing/redis.js";
import { killAll, type Proc, repoRoot, spawnEntry, waitForOutput } from "./processes.js";

// The `portal` CLI as a user runs it: its real entry in a child process, against a database a
// real gateway bootstrapped (embedded PGlite, and real Postgres + Redis with a gateway running).

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string>): Promise<CliRun> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  delete childEnv.DATABASE_URL;
  delete childEnv.REDIS_URL;
  Object.assign(childEnv, env);
  const proc = spawn(
    process.execPath,
    ["--import", "tsx", "apps/gateway/src/cli/main.ts", ...args],
    {
      cwd: repoRoot,
      env: childEnv,
    },
  );
  let stdout = "";
  let stderr = "";
  proc.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  proc.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve) => proc.on("close", (code) => resolve({ code, stdout, stderr })));
}

/** Run and parse `--json` output, failing with the whole run when the exit code is not 0. */
async function cliJson<T>(args: string[], env: Record<string, string>): Promise<T> {
  const run = await cli([...args, "--json"], env);
  expect(run.code, JSON.stringify(run)).toBe(0);
  return JSON.parse(run.stdout) as T;
}

interface KeyJson {
  id: string;
  org_id: string;
  name: string;
  status: string;
  revoked_at: string | null;
}

async function startGateway(env: Record<string, string>): Promise<{ proc: Proc; base: string }> {
  const proc = spawnEntry("gateway", "apps/gateway/src/main.ts", {
    PORT: "0",
    DEMO_TOKEN_DELAY_MS: "0",
    HEALTH_CHECK_INTERVAL_MS: "0",
    ...env,
  });
  const m = await waitForOutput(proc, /listening on (http:\/\/\S+)[\s\S]*Try it:/);
  return { proc, base: m[1] as string };
}

afterAll(() => killAll());

describe("portal CLI on the embedded database", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "portal-cli-e2e-"));
  const env = { PORTAL_DATA_DIR: dataDir };
  let orgId: string;

  beforeAll(async () => {
    // A real first start bootstraps the dev org and operator; then it stops (PGlite is
    // single-process) and the CLI takes over the same data dir.
    const gw = await startGateway({ ...env, EMBEDDED_ROUTERS: "0" });
    const refused = await cli(["keys", "list"], env);
    expect(refused.code, JSON.stringify(refused)).toBe(1);
    expect(refused.stderr).toMatch(/open in another process/);
    gw.proc.proc.kill("SIGINT");
    expect(await gw.proc.exited).toBe(0);
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("prints help and exits 0 (global and per command)", async () => {
    const global = await cli(["--help"], env);
    expect(global.code).toBe(0);
    for (const group of ["keys", "models", "pools", "targets", "usage", "migrate", "orgs"]) {
      expect(global.stdout).toContain(`  ${group} `);
    }
    expect(global.stdout).toMatch(/REDIS_URL/);
    expect(global.stdout).toMatch(/Exit codes: 0 success, 1 .*, 2 usage error/);
    const create = await cli(["keys", "create", "--help"], env);
    expect(create.code).toBe(0);
    expect(create.stdout).toMatch(/Usage: portal keys create --org ORG --name NAME/);
    expect(create.stdout).toMatch(/--expires-at ISO/);
    const group = await cli(["targets", "--help"], env);
    expect(group.code).toBe(0);
    expect(group.stdout).toMatch(/Subcommands:[\s\S]*add[\s\S]*update[\s\S]*remove/);
  });

  it("migrates (a no-op on a migrated database)", async () => {
    const out = await cliJson<{ migrated: boolean; database: string }>(["migrate"], env);
    expect(out).toEqual({ migrated: true, database: "pglite" });
  });

  it("creates, lists, rolls and revokes a key, each audited", async () => {
    const orgs = await cliJson<{ data: Array<{ id: string; slug: string }> }>(
      ["orgs", "list"],
      env,
    );
    const dev = orgs.data.find((o) => o.slug === "dev");
    expect(dev, JSON.stringify(orgs)).toBeDefined();
    orgId = dev?.id ?? "";

    const created = await cliJson<{ key: KeyJson; plaintext: string }>(
      ["keys", "create", "--org", "dev", "--name", "ci-key", "--rpm", "5"],
      env,
    );
    expect(created.plaintext).toMatch(/^cx_live_[1-9A-HJ-NP-Za-km-z]{40}$/);
    expect(created.key).toMatchObject({ org_id: orgId, name: "ci-key", status: "active" });

    const text = await cli(["keys", "list", "--org", orgId], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^ID\s+ORG_ID\s+NAME/);
    expect(text.stdout).toContain(created.key.id);
    expect(text.stdout).not.toContain(created.plaintext);

    const rolled = await cliJson<{ key: KeyJson; old_key: KeyJson; plaintext: string }>(
      ["keys", "roll", created.key.id, "--grace", "0"],
      env,
    );
    expect(rolled.old_key).toMatchObject({ id: created.key.id, status: "revoked" });
    expect(rolled.key).toMatchObject({ name: "ci-key", status: "active" });
    expect(rolled.plaintext).not.toBe(created.plaintext);

    const revoked = await cliJson<{ key: KeyJson; propagation: string }>(
      ["keys", "revoke", rolled.key.id],
      env,
    );
    expect(revoked).toMatchObject({
      key: { id: rolled.key.id, status: "revoked" },
      propagation: "ttl",
    });

    const listed = await cliJson<{ data: KeyJson[] }>(["keys", "list", "--org", "dev"], env);
    const byId = new Map(listed.data.map((k) => [k.id, k.status]));
    expect(byId.get(created.key.id)).toBe("revoked");
    expect(byId.get(rolled.key.id)).toBe("revoked");

    const handle = await openDb({ dataDir: path.join(dataDir, "pglite") });
    try {
      const rows = await handle.db.select().from(auditLog).orderBy(desc(auditLog.id)).limit(3);
      expect(rows.map((r) => r.action)).toEqual(["key.revoked", "key.rolled", "key.created"]);
      for (const r of rows) {
        expect(r).toMatchObject({ actorKind: "operator", orgId });
        expect(r.requestId).toMatch(/^cli_/);
        expect(r.actorId).toMatch(/^usr_/);
      }
    } finally {
      await handle.close();
    }
  });

  it("adds a pool, a target and a model, and shows them", async () => {
    const pool = await cliJson<{ pool: { id: string; name: string } }>(
      ["pools", "create", "cli-pool"],
      env,
    );
    const keyFile = path.join(dataDir, "router.key");
    writeFileSync(keyFile, "router-secret-123\n");
    const target = await cliJson<{ target: { id: string; has_router_key: boolean } }>(
      [
        "targets",
        "add",
        "cli-pool",
        "--url",
        "http://127.0.0.1:5999/",
        "--session-id",
        "7",
        "--router-key-file",
        keyFile,
        "--weight",
        "3",
      ],
      env,
    );
    expect(target.target).toMatchObject({ has_router_key: true });
    const model = await cliJson<{ model: Record<string, unknown> }>(
      [
        "models",
        "add",
        "cli-model",
        "--pool",
        "cli-pool",
        "--context-length",
        "4096",
        "--default-max-tokens",
        "128",
        "--max-max-tokens",
        "1024",
        "--input-price",
        "100000",
        "--output-price",
        "200000",
      ],
      env,
    );
    expect(model.model).toMatchObject({
      alias: "cli-model",
      pool_id: pool.pool.id,
      display_name: "cli-model",
      input_price_micros: "100000",
      state: "active",
    });

    const pools = await cliJson<{ data: Array<Record<string, unknown>> }>(["pools", "list"], env);
    expect(pools.data.find((p) => p.name === "cli-pool")).toMatchObject({
      aliases: ["cli-model"],
      targets: [
        {
          id: target.target.id,
          url: "http://127.0.0.1:5999",
          session_id: 7,
          weight: 3,
          state: "active",
        },
      ],
    });
    const drained = await cliJson<{ target: { state: string } }>(
      ["targets", "update", target.target.id, "--state", "draining"],
      env,
    );
    expect(drained.target.state).toBe("draining");
    const updated = await cliJson<{ model: { state: string; max_max_tokens: number } }>(
      ["models", "update", "cli-model", "--max-max-tokens", "2048", "--state", "disabled"],
      env,
    );
    expect(updated.model).toMatchObject({ state: "disabled", max_max_tokens: 2048 });
    const models = await cliJson<{ data: Array<{ alias: string }> }>(["models", "list"], env);
    expect(models.data.map((m) => m.alias)).toEqual(
      expect.arrayContaining(["default", "cli-model"]),
    );

    // A pool that still serves an alias is refused by the service: a failure, exit 1.
    const busy = await cli(["pools", "delete", "cli-pool"], env);
    expect(busy.code, JSON.stringify(busy)).toBe(1);
    expect(busy.stderr).toMatch(/still serves cli-model/);
  });

  it("shows usage and the weekly allowance", async () => {
    const usage = await cliJson<{
      org: { id: string };
      totals: { requests: number; cost_micros: string };
      allowance: { limit: number | null; used: number };
      plan: { slug: string };
    }>(["usage", "--org", "dev", "--days", "7"], env);
    expect(usage).toMatchObject({
      org: { id: orgId },
      plan: { slug: "free" },
      totals: { requests: 0, cost_micros: "0" },
      allowance: { limit: 1000, used: 0 },
    });
    const text = await cli(["usage", "--org", "dev"], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/Weekly allowance: 0 of 1000 requests used/);
  });

  it("answers bad input with a message on stderr and exit 2, never a stack trace", {
    timeout: 180_000,
  }, async () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /no command given/],
      [["frobnicate"], /unknown command 'frobnicate'/],
      [["keys"], /needs a subcommand/],
      [["keys", "mint"], /unknown subcommand 'keys mint'/],
      [["keys", "create", "--org", "dev"], /--name is required/],
      [["keys", "create", "--org", "dev", "--name", "x", "--nmae", "y"], /Unknown option '--nmae'/],
      [["keys", "create", "--org", "nope", "--name", "x"], /no organization 'nope'/],
      [
        ["keys", "create", "--org", "dev", "--name", "x", "--rpm", "fast"],
        /--rpm must be an integer/,
      ],
      [["keys", "create", "--org", "dev", "--name", "x", "--expires-at", "soon"], /--expires-at:/],
      [["keys", "roll", "key_missing"], /no API key 'key_missing'/],
      [["keys", "revoke"], /missing KEY_ID/],
      [["keys", "revoke", "a", "b"], /unexpected argument 'b'/],
      [["pools", "set-state", "cli-pool", "--state", "sleeping"], /--state:/],
      [
        [
          "targets",
          "add",
          "cli-pool",
          "--url",
          "ftp://x",
          "--session-id",
          "1",
          "--router-key",
          "k",
        ],
        /--url:/,
      ],
      [
        [
          "models",
          "add",
          "m2",
          "--pool",
          "cli-pool",
          "--context-length",
          "10",
          "--default-max-tokens",
          "1",
          "--max-max-tokens",
          "1",
          "--input-price",
          "1.5",
          "--output-price",
          "1",
        ],
        /--input-price must be a whole number/,
      ],
      [["usage", "--org", "dev", "--days", "365"], /--days:/],
      [["pools", "create", "x-pool", "--as", "nobody@example.com"], /no operator with email/],
      // Unknown ids and values the domain refuses are input errors too.
      [["targets", "remove", "tgt_nope"], /No such target/],
      [
        ["keys", "create", "--org", "dev", "--name", "x", "--expires-at", "2001-01-01T00:00:00Z"],
        /past|expires/i,
      ],
      [
        [
          "export",
          "usage",
          "--org",
          "dev",
          "--from",
          "2026-01-01",
          "--to",
          "2026-01-02",
          "--out",
          "-",
        ],
        /--out must be a file path/,
      ],
    ];
    // One at a time: several of them open the embedded database, and PGlite admits a single
    // process (two at once, and one is refused as "open in another process": exit 1, not 2).
    const runs: CliRun[] = [];
    for (const [args] of cases) runs.push(await cli(args, env));
    for (const [i, [args, message]] of cases.entries()) {
      const run = runs[i] as CliRun;
      expect(run.code, `${args.join(" ")}: ${JSON.stringify(run)}`).toBe(2);
      expect(run.stderr, args.join(" ")).toMatch(message);
      expect(run.stderr, args.join(" ")).not.toMatch(/\n\s+at /);
      expect(run.stdout, args.join(" ")).toBe("");
    }
  });
});

const pgUrl = testDatabaseUrl();
const redisUrl = testRedisUrl();
if (!pgUrl || !redisUrl) {
  console.warn(
    "cli.e2e: DATABASE_URL and REDIS_URL are not both set; skipping the Postgres + Redis CLI suite",
  );
}

describe.skipIf(!pgUrl || !redisUrl)("portal CLI on Postgres with a running gateway", () => {
  const dbName = `portal_cli_${Date.now().toString(36)}_${process.pid}`;
  const server = new URL(pgUrl ?? "postgres://localhost/x");
  const dbUrl = new URL(server);
  dbUrl.pathname = `/${dbName}`;
  const dataDir = mkdtempSync(path.join(tmpdir(), "portal-cli-pg-"));
  const bootstrapKey = generateApiKey();
  const env = {
    DATABASE_URL: dbUrl.toString(),
    REDIS_URL: redisUrl ?? "",
    PORTAL_DATA_DIR: dataDir,
  };
  let base: string;

  async function admin(sql: string): Promise<void> {
    const client = new pg.Client({ connectionString: server.toString() });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }

  const complete = async (model: string) => {
    const res = await fetch(`${base}/v1/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${bootstrapKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model, prompt: "hello", max_tokens: 8 }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    await admin(`CREATE DATABASE ${dbName}`);
    const gw = await startGateway({
      ...env,
      PORTAL_BOOTSTRAP_KEY: bootstrapKey,
      EMBEDDED_ROUTERS: "1",
      EMBEDDED_ROUTER_BASE_PORT: String(portBlock()),
      EMBEDDED_MINERS_PER_ROUTER: "1",
    });
    base = gw.base;
  });
  afterAll(async () => {
    killAll();
    await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("revokes a key a running gateway has cached, and the gateway refuses it at once", async () => {
    // Warm the gateway's key cache (fresh for 10 s): only the published invalidation can
    // make it refuse the key sooner.
    expect((await complete("default")).status).toBe(200);
    const keys = await cliJson<{ data: KeyJson[] }>(["keys", "list", "--org", "dev"], env);
    const boot = keys.data.find((k) => k.status === "active");
    expect(boot, JSON.stringify(keys)).toBeDefined();
    const revoked = await cliJson<{ propagation: string }>(["keys", "revoke", boot?.id ?? ""], env);
    expect(revoked.propagation).toBe("published");
    let last = await complete("default");
    for (let i = 0; i < 20 && last.status === 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      last = await complete("default");
    }
    expect(last.status, JSON.stringify(last.body)).toBe(401);
    expect(last.body).toMatchObject({ status: "failed", error: { code: "key_revoked" } });
  });

  it("publishes catalog changes: a new model alias is listed by the running gateway", async () => {
    const created = await cliJson<{ key: KeyJson; plaintext: string }>(
      ["keys", "create", "--org", "dev", "--name", "pg-key"],
      env,
    );
    const list = async () => {
      const res = await fetch(`${base}/v1/models`, {
        headers: { authorization: `Bearer ${created.plaintext}` },
      });
      return ((await res.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id);
    };
    expect(await list()).toEqual(["default"]);
    await cliJson(
      [
        "models",
        "add",
        "pg-model",
        "--pool",
        "default",
        "--context-length",
        "4096",
        "--default-max-tokens",
        "64",
        "--max-max-tokens",
        "512",
        "--input-price",
        "1",
        "--output-price",
        "1",
      ],
      env,
    );
    let ids = await list();
    for (let i = 0; i < 20 && !ids.includes("pg-model"); i++) {
      await new Promise((r) => setTimeout(r, 100));
      ids = await list();
    }
    expect(ids).toEqual(["default", "pg-model"]);
  });

  it("refuses to change anything when REDIS_URL is set but Redis is down", async () => {
    const port = await freePort();
    const run = await cli(["pools", "create", "never-created"], {
      ...env,
      REDIS_URL: `redis://127.0.0.1:${port}`,
    });
    expect(run.code, JSON.stringify(run)).toBe(1);
    expect(run.stderr).toMatch(/Redis is unreachable .*nothing was changed/);
    const pools = await cliJson<{ data: Array<{ name: string }> }>(["pools", "list"], env);
    expect(pools.data.map((p) => p.name)).not.toContain("never-created");
  });
});
