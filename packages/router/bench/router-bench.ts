/**
 * Router benchmark (issue 3): tasks/s and p50/p99 latency added by the router over the engine's
 * own time, at 32 concurrent tasks, redundancy 1 and 3, demo miners.
 *
 * Topology: the router node runs alone on the main thread, with the production blob store (files
 * under a temporary directory) and `/api/v3/completions` (prompt stored as a blob, fetched by the
 * miner over the WebSocket). The load generator and 3 demo miners run in a child process, so their
 * CPU does not queue behind the router's event loop and the router's own CPU time can be read from
 * `process.cpuUsage()`. Each miner has capacity 32, so 3 × 32 slots cover 32 concurrent tasks even
 * at redundancy 3 and no task ever waits for a free miner.
 *
 * Two loads, both closed-loop with 32 clients:
 * - "demo engine": the demo miners as shipped (3 ms per token, 8–32 tokens: a model-like engine
 *   time of tens of ms). This is the target figure: the router's overhead while miners do
 *   the work, with the router far from saturation.
 * - "instant engine": the same engine with no token delay, so the router is the bottleneck. This
 *   gives the router's peak tasks/s. Its latency is mostly queueing (32 clients ÷ throughput, by
 *   Little's law): at saturation every task waits for the 31 ahead of it, whatever the router does.
 *
 * Figures per run:
 * - tasks/s: completed tasks over wall time;
 * - latency p50/p99: client-observed, end to end;
 * - engine p50: the engine's own time (the slowest replica's `generate`, measured in the miner);
 * - added p50/p99: per task, end-to-end latency minus that task's engine time, i.e. everything that
 *   is not the model: HTTP, validation, tokenizing, blob store, both WebSocket hops, the blob
 *   fetch, precommit/commit, consensus and the response;
 * - router CPU/task: CPU time (user + system) of the router process divided by tasks;
 * - router ELU: how busy the router's event loop was (wall-clock, so CPU contention from other
 *   processes on the machine inflates it);
 * - load ELU: how busy the load generator + miners process was (near 100% means the figures are
 *   capped by the benchmark itself, not the router).
 *
 * Run: npm run bench -w @portal/router [-- tasksPerRun]   (stops by itself; 170 s hard cap)
 */

import { fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import pino from "pino";

const TASKS = Number(process.argv[2] ?? 1000) || 1000;
const WARMUP = Math.min(200, TASKS);
const CONCURRENCY = 32;
const MINERS = 3;
const MINER_CAPACITY = 32;
const DEMO_TOKEN_DELAY_MS = 3;
const HARD_CAP_MS = 170_000;
/** BENCH_BLOB=fs: the filesystem blob store (the standalone router's default) instead of memory. */
const BLOB_STORE = process.env.BENCH_BLOB === "fs" ? "fs" : "mem";

type LoadJob = {
  url: string;
  wsUrl: string;
  redundancy: number;
  concurrency: number;
  tasks: number;
  warmup: number;
  tokenDelayMs: number;
};
type LoadResult = {
  latencies: number[];
  engine: number[];
  added: number[];
  failures: number;
  wallMs: number;
  loadElu: number;
};

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};

async function loadWorker(job: LoadJob, onMeasuredPhase: () => void): Promise<LoadResult> {
  const { DemoEngine, startMiner } = await import("../src/miner/index.js");
  type Engine = import("../src/miner/index.js").MinerEngine;
  const engineMs = new Map<string, number>();
  /** Demo engine that records how long each generation took, by prompt (slowest replica). */
  class TimedDemo implements Engine {
    readonly name = "demo";
    private readonly inner = new DemoEngine(job.tokenDelayMs);
    async generate(...args: Parameters<Engine["generate"]>) {
      const start = performance.now();
      const out = await this.inner.generate(...args);
      const took = performance.now() - start;
      const prompt = args[0].prompt;
      engineMs.set(prompt, Math.max(engineMs.get(prompt) ?? 0, took));
      return out;
    }
  }
  const miners = await Promise.all(
    Array.from({ length: MINERS }, (_, i) =>
      startMiner({
        routerWsUrl: job.wsUrl,
        id: `bench-${i}`,
        engine: new TimedDemo(),
        capacity: MINER_CAPACITY,
      }),
    ),
  );
  // node:http with a keep-alive agent: several times cheaper per request than fetch (undici),
  // whose CPU would otherwise dominate the load thread and cap the figures.
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const target = new URL(job.url);
  const post = (body: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: "POST",
          headers: {
            Authorization: "Bearer default-dev-token",
            "Content-Type": "application/json",
            "Content-Length": Buffer.byteLength(body),
          },
        },
        (res) => {
          res.on("data", () => {});
          res.on("end", () => resolve(res.statusCode ?? 0));
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  const result: LoadResult = {
    latencies: [],
    engine: [],
    added: [],
    failures: 0,
    wallMs: 0,
    loadElu: 0,
  };
  const runPhase = async (prefix: string, count: number, record: boolean): Promise<void> => {
    let next = 0;
    const client = async (): Promise<void> => {
      while (next < count) {
        const i = next++;
        const prompt = `bench ${prefix} ${job.redundancy} ${i}`;
        const start = performance.now();
        const status = await post(
          JSON.stringify({ prompt, max_tokens: 32, client_reference: `${prefix}_${i}` }),
        );
        const took = performance.now() - start;
        if (!record) continue;
        if (status !== 200) {
          result.failures += 1;
          continue;
        }
        const engine = engineMs.get(prompt) ?? 0;
        result.latencies.push(took);
        result.engine.push(engine);
        result.added.push(took - engine);
      }
    };
    await Promise.all(Array.from({ length: job.concurrency }, client));
  };
  // Warm-up so JIT and connection pools do not skew the figures.
  await runPhase(`warm_${job.redundancy}_${job.tokenDelayMs}`, job.warmup, false);
  onMeasuredPhase();
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  await runPhase(`run_${job.redundancy}_${job.tokenDelayMs}`, job.tasks, true);
  result.wallMs = performance.now() - t0;
  result.loadElu = performance.eventLoopUtilization(elu0).utilization;
  agent.destroy();
  await Promise.all(miners.map((m) => m.close()));
  return result;
}

async function runOne(
  redundancy: number,
  concurrency: number,
  tasks: number,
  tokenDelayMs: number,
): Promise<string> {
  const { startRouterNode } = await import("../src/index.js");
  const dataDir = BLOB_STORE === "fs" ? mkdtempSync(join(tmpdir(), "router-bench-")) : undefined;
  const node = await startRouterNode({
    port: 0,
    logger: pino({ level: "silent" }),
    ...(dataDir !== undefined && { dataDir }),
    config: {
      sessions: [{ id: 0, model: "demo", mode: "ephemeral", redundancy }],
      default_session_id: 0,
    },
  });
  const job: LoadJob = {
    url: `${node.url}/api/v3/completions/0`,
    wsUrl: node.wsUrl,
    redundancy,
    concurrency,
    tasks,
    warmup: WARMUP,
    tokenDelayMs,
  };
  const child = fork(fileURLToPath(import.meta.url), ["--load"], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let elu0 = performance.eventLoopUtilization();
  let cpu0 = process.cpuUsage();
  let measuring = false;
  const res = await new Promise<LoadResult>((resolve, reject) => {
    child.on("message", (m: { phase: "run" } | { phase: "done"; result: LoadResult }) => {
      if (m.phase === "run") {
        elu0 = performance.eventLoopUtilization();
        cpu0 = process.cpuUsage();
        measuring = true;
      } else resolve(m.result);
    });
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`load process exited with ${code}`)));
    child.send(job);
  });
  const elu = measuring ? performance.eventLoopUtilization(elu0) : undefined;
  const cpu = process.cpuUsage(cpu0);
  child.kill();
  await node.close();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  const n = res.latencies.length;
  const tasksPerS = n / (res.wallMs / 1000);
  const cpuPerTask = measuring ? (cpu.user + cpu.system) / 1000 / Math.max(1, n) : Number.NaN;
  const f = (x: number): string => x.toFixed(2);
  return (
    `  redundancy ${redundancy}, ${concurrency} concurrent: ${n}/${tasks} ok, ` +
    `${tasksPerS.toFixed(0)} tasks/s | latency p50 ${f(pct(res.latencies, 50))} ` +
    `p99 ${f(pct(res.latencies, 99))} ms | engine p50 ${f(pct(res.engine, 50))} ms | ` +
    `router-added p50 ${f(pct(res.added, 50))} p99 ${f(pct(res.added, 99))} ms | ` +
    `router CPU/task ${cpuPerTask.toFixed(3)} ms (router ELU ` +
    `${elu === undefined ? "n/a" : (elu.utilization * 100).toFixed(0)}%, load ELU ` +
    `${(res.loadElu * 100).toFixed(0)}%) | failures ${res.failures} | ` +
    `machine load ${loadavg()[0]?.toFixed(1)}`
  );
}

if (process.argv[2] === "--load") {
  // The load process: miners and clients, driven by the router process over IPC.
  process.once("message", (job: LoadJob) => {
    void loadWorker(job, () => process.send?.({ phase: "run" })).then((result) => {
      process.send?.({ phase: "done", result });
    });
  });
} else {
  const cap = setTimeout(() => {
    process.stderr.write(`router bench: hard cap of ${HARD_CAP_MS} ms reached, aborting\n`);
    process.exit(1);
  }, HARD_CAP_MS);
  cap.unref();
  console.log(
    `router bench: ${TASKS} tasks per run (+${WARMUP} warm-up), POST /api/v3/completions, ` +
      `${MINERS} demo miners × capacity ${MINER_CAPACITY}, ${BLOB_STORE} blob store`,
  );
  // The router's code runs on this thread for every run: an unreported run warms its JIT first
  // (the first runs after start-up are up to 2× slower and would misreport the steady state).
  await runOne(3, CONCURRENCY, Math.min(TASKS, 500), 0);
  // BENCH_ONLY=demo|instant|unloaded runs one group (for profiling and A/B comparisons).
  const only = process.env.BENCH_ONLY;
  const want = (group: string): boolean => only === undefined || only === group;
  if (want("demo"))
    console.log(`demo engine (${DEMO_TOKEN_DELAY_MS} ms/token, as shipped): the target figure`);
  for (const redundancy of want("demo") ? [1, 3] : []) {
    console.log(await runOne(redundancy, CONCURRENCY, TASKS, DEMO_TOKEN_DELAY_MS));
  }
  if (want("instant"))
    console.log("instant engine (no token delay): router saturated, latency is mostly queueing");
  for (const redundancy of want("instant") ? [1, 3] : []) {
    console.log(await runOne(redundancy, CONCURRENCY, TASKS, 0));
  }
  if (want("unloaded")) console.log("unloaded reference (1 concurrent, instant engine)");
  for (const redundancy of want("unloaded") ? [1, 3] : []) {
    console.log(await runOne(redundancy, 1, Math.min(TASKS, 500), 0));
  }
  process.exit(0);
}
