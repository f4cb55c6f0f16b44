// `npm run bench:cost`: what one request costs each process, for A/B comparisons of the hot path.
// Loads each target (COST_TARGETS, default "passthrough,gateway") with a fixed number of requests
// (COST_REQUESTS, default 30,000, after 5,000 of warm-up) at 32 connections, alternating for
// COST_ROUNDS rounds (default 3), and prints per request: CPU of the target, the fixture router
// and Redis, and the target's allocation, promotion and GC pauses (bench/gc-account.mjs). These
// move ±3% between rounds on a VM whose req/s moves ±15%, so they show changes req/s cannot.
// (Throughput is `npm run bench`'s: an autocannon run of a fixed count ends on a whole second.)
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { cpuMs, start, stopChildren } from "./children.js";
import { redisCpuReader, requestOf } from "./load-shared.js";

const REQUESTS = Number(process.env.COST_REQUESTS ?? 30_000);
const ROUNDS = Math.max(1, Number(process.env.COST_ROUNDS ?? 3));
const TARGETS = (process.env.COST_TARGETS ?? "passthrough,gateway").split(",");
const here = fileURLToPath(new URL(".", import.meta.url));
// children.ts passes BENCH_NODE_FLAGS to the targets only.
process.env.BENCH_NODE_FLAGS = [
  process.env.BENCH_NODE_FLAGS ?? "",
  `--import ${path.join(here, "gc-account.mjs")}`,
]
  .join(" ")
  .trim();

interface GcAccount {
  allocated: number;
  promoted: number;
  scavenges: number;
  majors: number;
  pauseMs: number;
  maxPauseMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const redisCpu = redisCpuReader();

try {
  const fixture = await start("fixture.ts", []);
  const routerUrl = fixture.line[0] as string;
  const targets = [];
  for (const mode of TARGETS)
    targets.push({ mode, ...(await start("server.ts", [mode, routerUrl])) });
  console.log(
    `portal bench:cost: ${REQUESTS} requests per round, 32 connections, ${process.env.DATABASE_URL ? "Postgres" : "PGlite"} + ${redisCpu.enabled ? "Redis" : "in-process stores"}`,
  );
  console.log(
    "| round | target | p50 / p99 ms | CPU µs/req (target / fixture / Redis) | KB allocated / req | KB promoted / req | scavenges | mark-compacts | GC µs/req | longest GC ms |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  for (let round = 1; round <= ROUNDS; round++) {
    for (const t of targets) {
      const [url, key = "none", alias = "bench"] = t.line as [string, string?, string?];
      const req = requestOf(key, alias);
      const opts = { ...req, url: `${url}${req.path}`, method: "POST" as const, connections: 32 };
      await autocannon({ ...opts, amount: 5_000 });
      await sleep(300);
      t.proc.kill("SIGUSR2");
      const before = [cpuMs(t.proc.pid), cpuMs(fixture.proc.pid), await redisCpu.read()];
      const r = await autocannon({ ...opts, amount: REQUESTS });
      const after = [cpuMs(t.proc.pid), cpuMs(fixture.proc.pid), await redisCpu.read()];
      t.proc.kill("SIGUSR2");
      const file = path.join(
        process.env.GC_ACCOUNT_DIR ?? tmpdir(),
        `gc-account-${t.proc.pid}.json`,
      );
      let gc: GcAccount | undefined;
      for (let i = 0; i < 50 && gc === undefined; i++) {
        await sleep(100);
        try {
          gc = JSON.parse(readFileSync(file, "utf8")) as GcAccount;
        } catch {
          // not written yet
        }
      }
      const n = Math.max(1, r.requests.total);
      const perReq = (i: number) => ((((after[i] ?? 0) - (before[i] ?? 0)) * 1000) / n).toFixed(0);
      const kb = (bytes: number | undefined) => ((bytes ?? 0) / n / 1024).toFixed(1);
      console.log(
        `| ${round} | ${t.mode} | ${r.latency.p50} / ${r.latency.p99} | ${perReq(0)} / ${perReq(1)} / ${redisCpu.enabled ? perReq(2) : "—"} | ${kb(gc?.allocated)} | ${kb(gc?.promoted)} | ${gc?.scavenges ?? "?"} | ${gc?.majors ?? "?"} | ${(((gc?.pauseMs ?? 0) * 1000) / n).toFixed(0)} | ${(gc?.maxPauseMs ?? 0).toFixed(1)} |`,
      );
      if (r.non2xx > 0) console.log(`  (${r.non2xx} of ${n} answers were not 2xx)`);
      rmSync(file, { force: true });
    }
  }
} finally {
  redisCpu.close();
  stopChildren();
}
