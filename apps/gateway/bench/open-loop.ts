// Open-loop load: requests sent at a steady rate (spread over each millisecond, not in bursts),
// each timed from when it was due, so a slow target cannot slow the arrivals down and hide its
// own queueing (no coordinated omission). autocannon's `overallRate` sends each second's quota
// as fast as it can and then waits, which measures bursts, not a steady load.
import { Pool } from "undici";

export interface OpenLoopResult {
  sent: number;
  ok: number;
  p50: number;
  p99: number;
  /** The target's own X-Portal-Overhead-Ms at p50 / p99, when it sends the header. */
  overhead?: { p50: number; p99: number };
}

export async function openLoop(opts: {
  url: string;
  path: string;
  body: string;
  headers: Record<string, string>;
  rate: number;
  seconds: number;
  connections: number;
}): Promise<OpenLoopResult> {
  const pool = new Pool(opts.url, { connections: opts.connections });
  const total = Math.round(opts.rate * opts.seconds);
  const latencies = new Float64Array(total);
  const overheads: number[] = [];
  const started = performance.now();
  let sent = 0;
  let ok = 0;
  const inflight: Array<Promise<void>> = [];
  const fire = (i: number, due: number) =>
    pool
      .request({ method: "POST", path: opts.path, headers: opts.headers, body: opts.body })
      .then(async (res) => {
        await res.body.text();
        const overhead = Number(res.headers["x-portal-overhead-ms"]);
        if (Number.isFinite(overhead)) overheads.push(overhead);
        if (res.statusCode === 200) ok++;
      })
      .catch(() => {})
      .finally(() => {
        latencies[i] = performance.now() - due;
      });
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const dueNow = Math.min(
        total,
        Math.floor(((performance.now() - started) * opts.rate) / 1000),
      );
      while (sent < dueNow) {
        inflight.push(fire(sent, started + (sent * 1000) / opts.rate));
        sent++;
      }
      if (sent >= total) {
        clearInterval(tick);
        resolve();
      }
    }, 1);
  });
  await Promise.all(inflight);
  await pool.close();
  const quantile = (values: ArrayLike<number>) => {
    const sorted = Array.from(values).sort((a, b) => a - b);
    return (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  };
  const at = quantile(latencies);
  const own = quantile(overheads);
  return {
    sent,
    ok,
    p50: at(0.5),
    p99: at(0.99),
    ...(overheads.length > 0 && { overhead: { p50: own(0.5), p99: own(0.99) } }),
  };
}
