// `npm run soak`: a bounded soak of the full gateway path (separate processes: the fixture router
// and the bench gateway of server.ts) reporting, per interval, throughput, latency and the
// gateway's memory (RSS, V8 heap) to catch leaks. Not part of `npm test`. Uses DATABASE_URL /
// REDIS_URL when set. SOAK_SECONDS (default 150), SOAK_INTERVAL_SECONDS (15), SOAK_CONNECTIONS (16).
import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import autocannon from "autocannon";
import { rssMb, start, stopChildren } from "./children.js";

const TOTAL_S = Number(process.env.SOAK_SECONDS ?? 150);
const INTERVAL_S = Number(process.env.SOAK_INTERVAL_SECONDS ?? 15);
const CONNECTIONS = Number(process.env.SOAK_CONNECTIONS ?? 16);
/** One value of a Prometheus text exposition (first sample of `name`). */
function metric(text: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, "m").exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

interface Row {
  t: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  rssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  queue: number;
}

/** Least-squares slope of y over x (MB per second → reported per minute). */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += ((xs[i] ?? 0) - mx) * ((ys[i] ?? 0) - my);
    den += ((xs[i] ?? 0) - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

try {
  const fixture = await start("fixture.ts", []);
  const gw = await start("server.ts", ["gateway", fixture.line[0] as string]);
  const [url, key, alias] = gw.line as [string, string, string];
  const body = JSON.stringify({ model: alias, prompt: "Soak prompt.", max_tokens: 16 });
  const opts = {
    url: `${url}/v1/completions`,
    method: "POST" as const,
    connections: CONNECTIONS,
    body,
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
  };
  await autocannon({ ...opts, duration: 3 });
  const rows: Row[] = [];
  const started = Date.now();
  for (let elapsed = 0; elapsed < TOTAL_S; elapsed += INTERVAL_S) {
    const r = await autocannon({ ...opts, duration: Math.min(INTERVAL_S, TOTAL_S - elapsed) });
    const text = await fetch(`${url}/metrics`).then((res) => res.text());
    const row: Row = {
      t: Math.round((Date.now() - started) / 1000),
      rps: Math.round(r.requests.average),
      p50: r.latency.p50,
      p99: r.latency.p99,
      non2xx: r.non2xx,
      errors: r.errors,
      rssMb: Math.round(rssMb(gw.proc.pid)),
      heapUsedMb: Math.round(metric(text, "nodejs_heap_size_used_bytes") / 2 ** 20),
      heapTotalMb: Math.round(metric(text, "nodejs_heap_size_total_bytes") / 2 ** 20),
      queue: metric(text, "portal_usage_queue_depth"),
    };
    rows.push(row);
    process.stdout.write(`${JSON.stringify(row)}\n`);
  }
  // The first interval includes warm-up growth (JIT, caches, pools): fit the trend after it.
  const steady = rows.slice(1);
  const heapSlope = slope(
    steady.map((r) => r.t),
    steady.map((r) => r.heapUsedMb),
  );
  const rssSlope = slope(
    steady.map((r) => r.t),
    steady.map((r) => r.rssMb),
  );
  const services = `${process.env.DATABASE_URL ? "Postgres" : "PGlite"} + ${process.env.REDIS_URL ? "Redis" : "in-process stores"}`;
  const lines = [
    `portal soak: ${TOTAL_S} s in ${INTERVAL_S} s intervals, ${CONNECTIONS} connections, ${services}, ${cpus().length} CPUs`,
    "| t (s) | req/s | p50 ms | p99 ms | non-2xx | errors | RSS MB | heap used MB | heap total MB | usage queue |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...rows.map(
      (r) =>
        `| ${r.t} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.non2xx} | ${r.errors} | ${r.rssMb} | ${r.heapUsedMb} | ${r.heapTotalMb} | ${r.queue} |`,
    ),
    `trend after the first interval: heap ${(heapSlope * 60).toFixed(1)} MB/min, RSS ${(rssSlope * 60).toFixed(1)} MB/min`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  if (process.env.SOAK_REPORT_FILE) writeFileSync(process.env.SOAK_REPORT_FILE, lines.join("\n"));
} finally {
  stopChildren();
}
