// `npm run bench`: passthrough proxy vs the full gateway against the same fixture router, plus
// the usage writer's throughput. Uses DATABASE_URL / REDIS_URL when set (the production path).
import { cpus } from "node:os";
import autocannon from "autocannon";
import { cpuMs, rssMb, start, stopChildren } from "./children.js";
import { redisCpuReader, requestOf } from "./load-shared.js";
import { openLoop } from "./open-loop.js";
import { streamTtfb } from "./stream-ttfb.js";
import { writerThroughput } from "./writer.js";

const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
/** Closed-loop rounds per target, alternating (a shared VM drifts by ±15% between runs). */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
/** Redis's own CPU time so far in ms (INFO cpu), or 0 without REDIS_URL. */
const redisCpu = redisCpuReader();
/** Processes whose CPU time per request a closed-loop round reports. */
interface Pids {
  target: number | undefined;
  fixture: number | undefined;
}

/**
 * Closed loop: as fast as `CONNECTIONS` connections go (after a warm-up). Also reports the CPU
 * each process spent per request: steadier than req/s on a shared VM, whose speed drifts.
 */
async function load(url: string, key: string, alias: string, pids: Pids) {
  const req = requestOf(key, alias);
  const opts = {
    ...req,
    url: `${url}${req.path}`,
    method: "POST" as const,
    connections: CONNECTIONS,
  };
  // Warm up caches and connection pools before measuring.
  await autocannon({ ...opts, duration: 2 });
  const before = [cpuMs(pids.target), cpuMs(pids.fixture), await redisCpu.read()];
  const r = await autocannon({ ...opts, duration: DURATION });
  const after = [cpuMs(pids.target), cpuMs(pids.fixture), await redisCpu.read()];
  const perRequestUs = (i: number) =>
    r.requests.total > 0 ? ((after[i] ?? 0) - (before[i] ?? 0)) * (1000 / r.requests.total) : 0;
  return {
    cpuUs: { target: perRequestUs(0), fixture: perRequestUs(1), redis: perRequestUs(2) },
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
  };
}

type LoadResult = Awaited<ReturnType<typeof load>>;

function cpuOf(r: LoadResult): string {
  const { target, fixture, redis } = r.cpuUs;
  return [target, fixture, ...(redisCpu.enabled ? [redis] : [])]
    .map((v) => v.toFixed(0))
    .join(" / ");
}

/** The round with the median throughput (its latencies come with it). */
function median(rounds: LoadResult[]): LoadResult {
  const sorted = [...rounds].sort((x, y) => x.rps - y.rps);
  return sorted[Math.floor(sorted.length / 2)] as LoadResult;
}

/** Open loop at a steady `rate`: the latency each target adds at one and the same load. */
function steady(url: string, key: string, alias: string, rate: number) {
  return openLoop({
    url,
    ...requestOf(key, alias),
    rate,
    seconds: DURATION,
    connections: CONNECTIONS,
  });
}

try {
  const fixture = await start("fixture.ts", []);
  const routerUrl = fixture.line[0] as string;
  const pass = await start("server.ts", ["passthrough", routerUrl]);
  const gw = await start("server.ts", ["gateway", routerUrl]);
  const passArgs = [pass.line[0] as string, "none", "bench"] as const;
  const gwArgs = [gw.line[0] as string, gw.line[1] as string, gw.line[2] as string] as const;
  const passPids = { target: pass.proc.pid, fixture: fixture.proc.pid };
  const gwPids = { target: gw.proc.pid, fixture: fixture.proc.pid };
  // Alternate the two targets and keep each one's median round by throughput.
  const runs: { a: LoadResult[]; b: LoadResult[] } = { a: [], b: [] };
  for (let i = 0; i < ROUNDS; i++) {
    runs.a.push(await load(...passArgs, passPids));
    runs.b.push(await load(...gwArgs, gwPids));
  }
  const a = median(runs.a);
  const b = median(runs.b);
  // Latency compared at one offered load both sustain: half the gateway's closed-loop rate.
  const rate = Math.max(100, Math.round(b.rps / 2 / 100) * 100);
  const aAt = await steady(...passArgs, rate);
  const bAt = await steady(...gwArgs, rate);
  pass.proc.kill("SIGTERM");
  const gwRss = rssMb(gw.proc.pid);
  const ttfb = await streamTtfb({
    routerUrl,
    gatewayUrl: gw.line[0] as string,
    key: gw.line[1] as string,
    alias: gw.line[2] as string,
    requests: Number(process.env.BENCH_STREAMS ?? 300),
  });
  gw.proc.kill("SIGTERM");
  const writer = await writerThroughput(50_000);

  const services = `${process.env.DATABASE_URL ? "Postgres" : "PGlite"} + ${process.env.REDIS_URL ? "Redis" : "in-process stores"}`;
  const lines = [
    `portal bench: ${CONNECTIONS} connections, ${DURATION} s each, ${services}, ${cpus().length} CPUs; closed loop: median of ${ROUNDS} alternating rounds (passthrough req/s ${runs.a.map((r) => r.rps.toFixed(0)).join(", ")}; gateway ${runs.b.map((r) => r.rps.toFixed(0)).join(", ")})`,
    "| target | req/s | p50 ms | p99 ms | non-2xx |",
    "|---|---|---|---|---|",
    `| passthrough (Hono + undici) | ${a.rps.toFixed(0)} | ${a.p50} | ${a.p99} | ${a.non2xx} |`,
    `| gateway (full path) | ${b.rps.toFixed(0)} | ${b.p50} | ${b.p99} | ${b.non2xx} |`,
    `CPU per request in those rounds (µs; target / fixture router / Redis): passthrough ${cpuOf(a)}; gateway ${cpuOf(b)}`,
    `throughput ratio gateway/passthrough: ${(b.rps / a.rps).toFixed(2)} (target ≥ 0.60)`,
    `added p99 at full load: ${(b.p99 - a.p99).toFixed(1)} ms (target ≤ 5 ms); gateway RSS after load: ${gwRss.toFixed(0)} MB (target < 200 MB)`,
    `at one steady load (${rate} req/s, open loop, up to ${CONNECTIONS} connections): passthrough p50 ${aAt.p50.toFixed(2)} ms p99 ${aAt.p99.toFixed(2)} ms, gateway p50 ${bAt.p50.toFixed(2)} ms p99 ${bAt.p99.toFixed(2)} ms (${bAt.sent - bAt.ok} of ${bAt.sent} not 200); added p99: ${(bAt.p99 - aAt.p99).toFixed(2)} ms (target ≤ 5 ms); the gateway's own X-Portal-Overhead-Ms p50 ${bAt.overhead?.p50.toFixed(2) ?? "?"} p99 ${bAt.overhead?.p99.toFixed(2) ?? "?"} ms`,
    `streaming time to first byte, one at a time: router direct p50 ${ttfb.directP50.toFixed(2)} ms (p99 ${ttfb.directP99.toFixed(2)}), through the gateway p50 ${ttfb.gatewayP50.toFixed(2)} ms (p99 ${ttfb.gatewayP99.toFixed(2)}); added at p50: ${(ttfb.gatewayP50 - ttfb.directP50).toFixed(2)} ms (target < 2 ms)`,
    writer === null
      ? "usage writer: skipped (needs REDIS_URL)"
      : `usage writer: ${writer.toFixed(0)} events/s into Postgres (target ≥ 20000)`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
} finally {
  stopChildren();
  redisCpu.close();
}
