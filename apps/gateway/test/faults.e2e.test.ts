import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { newId } from "@portal/contracts";
import { type DbHandle, openDb, rowsOf, sql } from "@portal/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateApiKey } from "../src/services/api-keys.js";
import { rollupUsage } from "../src/services/billing/rollup.js";
import { bootstrap } from "../src/services/bootstrap.js";
import { SecretBox } from "../src/services/secret-box.js";
import { freePort, PrivatePostgres, PrivateRedis } from "../src/testing/private-services.js";
import { killAll, type Proc, sleep, spawnEntry, waitForOk, waitForOutput } from "./processes.js";

// Fault and load test of the scaled-out deployment, every part a separate process on loopback:
// private Postgres and Redis (killed and restarted here, never the machine's shared ones), two
// gateways, two routers, two miners per router. Constant load while, phase by phase, a router is
// SIGKILLed, Postgres restarts, Redis restarts (SIGKILL) and a miner is SIGKILLed. Afterwards every
// request answered 200 has exactly one usage row, rolled into exactly one hourly charge, and the
// charges add up to the served requests' costs (nothing charged twice).
// Finally the surviving router is drained with SIGTERM under load. Each phase's error rate is
// printed (and written to FAULT_REPORT_FILE when set). Bounded: each phase lasts a few seconds.

const PHASE_MS = Number(process.env.FAULT_PHASE_MS ?? 3_000);
const WORKERS = 6;
const encryptionKey = randomBytes(32).toString("hex");
const apiKey = generateApiKey();

let pg: PrivatePostgres;
let redis: PrivateRedis;
let db: DbHandle;
const dirs: string[] = [];
const routers: Array<{ proc: Proc; url: string; port: number }> = [];
const miners: Proc[][] = [];
const gateways: Array<{ proc: Proc; base: string }> = [];
let orgId = "";

function tempDir(prefix: string): string {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

async function startRouter(i: number, minerEnv: Record<string, string> = {}): Promise<void> {
  const port = await freePort();
  const proc = spawnEntry(`router-${i}`, "apps/router/src/main.ts", {
    ROUTER_PORT: String(port),
    ROUTER_DATA_DIR: tempDir(`portal-fault-router-${i}-`),
    ROUTER_SHUTDOWN_TIMEOUT_MS: "15000",
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForOk(`${url}/livez`);
  routers[i] = { proc, url, port };
  miners[i] = [0, 1].map((m) =>
    spawnEntry(`miner-${i}-${m}`, "apps/miner/src/main.ts", {
      MINER_ROUTER_URL: `ws://127.0.0.1:${port}/ws/miners`,
      MINER_ID: `fault-miner-${i}-${m}`,
      MINER_CAPACITY: "4",
      ...minerEnv,
    }),
  );
  // Ready means one miner; wait for both so the load starts on a settled stack.
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    const status = await fetch(`${url}/api/v1/status`, {
      headers: { authorization: "Bearer default-dev-token" },
    }).then((r) => r.json() as Promise<{ miners?: { connected?: number } }>);
    if (status.miners?.connected === 2) return;
    await sleep(100);
  }
  throw new Error(`router-${i}: miners did not connect`);
}

async function startGateway(i: number): Promise<void> {
  const proc = spawnEntry(`gateway-${i}`, "apps/gateway/src/main.ts", {
    PORT: "0",
    DATABASE_URL: pg.url,
    REDIS_URL: redis.url,
    EMBEDDED_ROUTERS: "0",
    PORTAL_DATA_DIR: tempDir(`portal-fault-gw-${i}-`),
    PORTAL_ENCRYPTION_KEY: encryptionKey,
    HEALTH_CHECK_INTERVAL_MS: "1000",
    USAGE_FLUSH_INTERVAL_MS: "200",
    REDIS_BREAKER_COOLDOWN_MS: "500",
    SHUTDOWN_TIMEOUT_MS: "10000",
  });
  const m = await waitForOutput(proc, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
  gateways[i] = { proc, base: m[1] as string };
}

beforeAll(async () => {
  [pg, redis] = await Promise.all([PrivatePostgres.start(), PrivateRedis.start()]);
  db = await openDb({ url: pg.url, poolSize: 4 });
  await db.migrate();
  await Promise.all([startRouter(0), startRouter(1)]);
  const boot = await bootstrap(db.db, new SecretBox(Buffer.from(encryptionKey, "hex")), {
    email: "ops@portal.test",
    fixedKey: apiKey,
    targets: routers.map((r) => ({ url: r.url, sessionId: 0, routerKey: "default-dev-token" })),
  });
  if (!boot) throw new Error("fresh database was not bootstrapped");
  orgId = boot.orgId;
  // Prepaid (so every served request is charged), funded, with limits far above this load.
  await db.exec(`
    UPDATE plans SET requests_per_minute_org = 1000000, tokens_per_minute_org = 100000000,
        requests_per_minute_key = 1000000, max_concurrent_per_key = 1000
      WHERE slug = 'prepaid';
    UPDATE organizations SET plan_id = (SELECT id FROM plans WHERE slug = 'prepaid')
      WHERE id = '${orgId}';
    INSERT INTO billing_ledger (id, org_id, kind, amount_micros, reference)
      VALUES ('${newId("led")}', '${orgId}', 'grant', 1000000000000, 'fault-test-grant');`);
  await Promise.all([startGateway(0), startGateway(1)]);
}, 180_000);

afterAll(async () => {
  const logDir = process.env.FAULT_LOG_DIR;
  if (logDir) {
    for (const p of [...gateways, ...routers].map((x) => x.proc)) {
      writeFileSync(path.join(logDir, `${p.name}.log`), p.output());
    }
  }
  killAll();
  await db?.close().catch(() => {});
  await Promise.all([pg?.destroy(), redis?.destroy()]);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Outcome {
  phase: string;
  status: number;
  requestId?: string;
  code?: string;
}

class Load {
  readonly outcomes: Outcome[] = [];
  phase = "baseline";
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(
    workers: number,
    private readonly maxTokens = 8,
  ) {
    this.loops = Array.from({ length: workers }, (_, i) => this.loop(i));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async loop(i: number): Promise<void> {
    let n = i;
    while (this.running) {
      const gw = gateways[n++ % gateways.length];
      if (!gw) break;
      const outcome = await completion(gw.base, this.phase, this.maxTokens);
      // Counted in the phase it ended in: a request cut by a fault belongs to that fault.
      outcome.phase = this.phase;
      this.outcomes.push(outcome);
      // A refused connection fails at once: do not spin.
      if (outcome.status === 0) await sleep(50);
    }
  }
}

async function completion(base: string, phase: string, maxTokens: number): Promise<Outcome> {
  try {
    const res = await fetch(`${base}/v1/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "default", prompt: "fault tolerance", max_tokens: maxTokens }),
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await res.json().catch(() => null)) as {
      request_id?: string;
      error?: { code?: string } | null;
    } | null;
    return {
      phase,
      status: res.status,
      ...(body?.request_id ? { requestId: body.request_id } : {}),
      ...(body?.error?.code ? { code: body.error.code } : {}),
    };
  } catch (err) {
    return { phase, status: 0, code: (err as Error).name };
  }
}

function report(outcomes: Outcome[]) {
  const phases = [...new Set(outcomes.map((o) => o.phase))];
  return phases.map((phase) => {
    const of = outcomes.filter((o) => o.phase === phase);
    const errors = of.filter((o) => o.status !== 200);
    const codes: Record<string, number> = {};
    for (const e of errors) {
      const k = `${e.status}${e.code ? ` ${e.code}` : ""}`;
      codes[k] = (codes[k] ?? 0) + 1;
    }
    return {
      phase,
      requests: of.length,
      errors: errors.length,
      error_rate: of.length ? Number((errors.length / of.length).toFixed(4)) : 0,
      codes,
    };
  });
}

describe("fault tolerance of the scaled-out deployment (separate processes)", () => {
  it("serves through a router kill, Postgres and Redis restarts and a miner kill; every 200 has one usage row and one charge", {
    timeout: 240_000,
  }, async () => {
    const load = new Load(WORKERS);
    await sleep(PHASE_MS);

    load.phase = "router_killed";
    await routers[1]?.proc.kill("SIGKILL");
    await sleep(PHASE_MS + 1_000);

    load.phase = "postgres_restart";
    await pg.down("fast");
    await sleep(1_500);
    await pg.up();
    await sleep(PHASE_MS);

    load.phase = "redis_restart";
    await redis.kill();
    await sleep(1_500);
    await redis.up();
    await sleep(PHASE_MS);

    load.phase = "miner_killed";
    await miners[0]?.[0]?.kill("SIGKILL");
    await sleep(PHASE_MS);

    load.phase = "recovered";
    await sleep(PHASE_MS);
    await load.stop();

    for (const g of gateways) {
      expect(g.proc.proc.exitCode, `${g.proc.name} died:\n${g.proc.output().slice(-4000)}`).toBe(
        null,
      );
    }
    const table = report(load.outcomes);
    console.log(`fault test (${WORKERS} workers, ${PHASE_MS} ms phases):`);
    console.table(table.map((t) => ({ ...t, codes: JSON.stringify(t.codes) })));
    if (process.env.FAULT_REPORT_FILE) {
      writeFileSync(process.env.FAULT_REPORT_FILE, JSON.stringify(table, null, 2));
    }

    // Requests kept flowing in every phase, and no fault ever surfaced as internal_error.
    for (const t of table) expect(t.requests - t.errors, JSON.stringify(t)).toBeGreaterThan(0);
    const internal = load.outcomes.filter((o) => o.status === 500);
    // The gateways' own log lines about those requests, so a failure here says what broke.
    const logs = gateways.flatMap((g) =>
      g.proc
        .output()
        .split("\n")
        .filter((l) => internal.some((o) => o.requestId && l.includes(o.requestId))),
    );
    expect(internal, logs.join("\n").slice(0, 8_000)).toEqual([]);
    // With Redis gone the local fallbacks serve: that phase has no failures at all.
    expect(table.find((t) => t.phase === "redis_restart")?.errors).toBe(0);

    const served = load.outcomes.filter((o) => o.status === 200).map((o) => o.requestId);
    expect(served.every((id) => typeof id === "string")).toBe(true);
    const servedIds = new Set(served as string[]);

    // Usage is durable before each answer; wait for the writers and spools to commit it all.
    const deadline = Date.now() + 60_000;
    let usage: Array<{ request_id: string; status: string; n: number }> = [];
    while (Date.now() < deadline) {
      usage = rowsOf(
        await db.db.execute(sql`
          SELECT request_id, min(status::text) AS status, count(*)::int AS n FROM usage_events
          WHERE org_id = ${orgId} GROUP BY request_id`),
      );
      const have = new Set(usage.map((u) => u.request_id));
      if ([...servedIds].every((id) => have.has(id))) break;
      await sleep(250);
    }
    const usageById = new Map(usage.map((u) => [u.request_id, u]));
    const missing = [...servedIds].filter((id) => !usageById.has(id));
    expect(missing, `${missing.length} served requests without a usage row`).toEqual([]);
    expect(usage.filter((u) => u.n !== 1)).toEqual([]);

    // Usage charges reach the ledger through the hourly rollup (services/billing/rollup.ts); the
    // gateways' job only closes past hours, so close every hour here as a late run would.
    await rollupUsage(db.db, { before: new Date(Date.now() + 3_600_000), orgId });
    await rollupUsage(db.db, { before: new Date(Date.now() + 3_600_000), orgId }); // a re-run adds nothing
    const charges = rowsOf<{ reference: string; n: number; amount: string }>(
      await db.db.execute(sql`
        SELECT reference, count(*)::int AS n, sum(-amount_micros)::text AS amount
        FROM billing_ledger WHERE org_id = ${orgId} AND kind = 'usage_charge' GROUP BY reference`),
    );
    // No reference twice; every ok row was charged and rolled into exactly one existing entry.
    expect(charges.filter((c) => c.n !== 1)).toEqual([]);
    const billed = rowsOf<{
      request_id: string;
      status: string;
      charge: string;
      entry: string | null;
    }>(
      await db.db.execute(sql`
        SELECT u.request_id, u.status::text AS status, u.charge_micros::text AS charge,
          l.id AS entry
        FROM usage_events u LEFT JOIN billing_ledger l ON l.id = u.billed_entry_id
        WHERE u.org_id = ${orgId}`),
    );
    const uncharged = billed.filter(
      (b) => servedIds.has(b.request_id) && (BigInt(b.charge) <= 0n || b.entry === null),
    );
    expect(uncharged, `${uncharged.length} served requests without a charge`).toEqual([]);
    // Charges exist only for requests whose usage row says ok, and the rolled-up entries add up
    // to exactly the served requests' costs: nothing charged twice, nothing missed.
    expect(billed.filter((b) => b.status !== "ok" && BigInt(b.charge) > 0n)).toEqual([]);
    const servedCost = billed.reduce((sum, b) => sum + BigInt(b.charge), 0n);
    const ledgerCharged = charges.reduce((sum, c) => sum + BigInt(c.amount), 0n);
    expect(ledgerCharged).toBe(servedCost);
    const okRows = usage.filter((u) => u.status === "ok").length;
    expect(billed.filter((b) => b.entry !== null).length).toBe(okRows);
  });

  it("drains a router process on SIGTERM: readiness 503, new tasks 503, in-flight completions finish, exit 0", {
    timeout: 60_000,
  }, async () => {
    // Slow demo tokens (8–47 words at 60 ms) so the completions are surely in flight at SIGTERM.
    await startRouter(2, { MINER_DEMO_TOKEN_DELAY_MS: "60" });
    const router = routers[2];
    if (!router) throw new Error("router not started");
    const direct = (ref: string, maxTokens: number) =>
      fetch(`${router.url}/api/v3/completions/0`, {
        method: "POST",
        headers: { authorization: "Bearer default-dev-token", "content-type": "application/json" },
        body: JSON.stringify({ prompt: "drain", max_tokens: maxTokens, client_reference: ref }),
      }).then(async (r) => ({ status: r.status, body: await r.text() }));
    const inFlight = [1, 2, 3].map((i) => direct(`drain-${i}`, 400));
    // SIGTERM only once the router holds all three tasks, whatever the machine's speed.
    const until = Date.now() + 10_000;
    for (;;) {
      const tasks = await fetch(`${router.url}/api/v1/tasks/0`, {
        headers: { authorization: "Bearer default-dev-token" },
      }).then((r) => r.json() as Promise<unknown>);
      if (countActive(tasks) >= 3) break;
      if (Date.now() > until) throw new Error(`tasks never in flight: ${JSON.stringify(tasks)}`);
      await sleep(20);
    }
    router.proc.proc.kill("SIGTERM");
    let ready = 0;
    for (let i = 0; i < 40 && ready !== 503; i++) {
      ready = await fetch(`${router.url}/readyz`).then(
        (r) => r.status,
        () => -1,
      );
      if (ready !== 503) await sleep(25);
    }
    expect(ready, router.proc.output()).toBe(503);
    const refused = await direct("drain-new", 8);
    expect(refused.status, refused.body).toBe(503);
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: "no_miners_available" } });
    const done = await Promise.all(inFlight);
    expect(
      done.map((d) => d.status),
      JSON.stringify(done),
    ).toEqual([200, 200, 200]);
    expect(await router.proc.exited, router.proc.output()).toBe(0);
  });
});

/** Tasks of the drain test (client_reference `drain-…`) that have not finished yet. */
function countActive(body: unknown): number {
  const tasks = (
    body as { tasks?: Array<{ client_reference: string | null; finished_at: unknown }> }
  ).tasks;
  return (tasks ?? []).filter(
    (t) => t.client_reference?.startsWith("drain-") === true && t.finished_at === null,
  ).length;
}
