/**
 * Stream-flood benchmark: the router's CPU for one streamed task whose miner sends N small token
 * frames (40 characters each by default) and then commits, for several N. Work per frame must not
 * grow with the answer so far, so CPU/frame should stay flat as N doubles (it grew linearly, i.e.
 * quadratic in total, while every frame re-compared the whole streamed text).
 *
 * The router node runs alone on the main thread and reads its own `process.cpuUsage()`; the flood
 * miner and the streaming client run in a child process. max_tokens is set high enough that the
 * whole answer is streamed (the budget would otherwise stop forwarding early).
 *
 * Run: npx tsx packages/router/bench/stream-flood.ts [frames… (default 5000 10000 20000)] [--size 40]
 */

import { fork } from "node:child_process";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import pino from "pino";
import WebSocket from "ws";

type Job = { url: string; wsUrl: string; frames: number; size: number };
type Done = { bytes: number; status: number };

const sha = (t: string): string => createHash("sha256").update(t).digest("hex");

/** Child: one flood miner and one streaming client; reports when the stream has ended. */
async function flood(job: Job): Promise<Done> {
  const ws = new WebSocket(job.wsUrl, { headers: { Authorization: "Bearer default-miner-token" } });
  const send = (o: unknown) => ws.send(JSON.stringify(o));
  await new Promise<void>((resolve, reject) => {
    ws.once("error", reject);
    ws.on("open", () =>
      send({ type: "hello", miner_id: "flood", models: ["demo"], capacity: 1, engine: "bench" }),
    );
    ws.on("message", async (data) => {
      const m = JSON.parse(String(data)) as { type: string; assignment_id?: string };
      if (m.type === "welcome") resolve();
      if (m.type !== "task" || m.assignment_id === undefined) return;
      const aid = m.assignment_id;
      send({ type: "ack", assignment_id: aid });
      const piece = "y".repeat(job.size);
      const frame = JSON.stringify({ type: "token", assignment_id: aid, text: piece });
      for (let i = 0; i < job.frames; i++) {
        ws.send(frame);
        // Let the socket drain now and then, as a real miner's engine would.
        if (i % 2000 === 1999) await new Promise((r) => setTimeout(r, 1));
      }
      const text = piece.repeat(job.frames);
      send({ type: "precommit", assignment_id: aid, hash: sha(text) });
      send({ type: "commit", assignment_id: aid, text, finish_reason: "stop" });
    });
  });
  const res = await fetch(job.url, {
    method: "POST",
    headers: { Authorization: "Bearer default-dev-token", "Content-Type": "application/json" },
    body: JSON.stringify({
      prompt: "x",
      stream: true,
      max_tokens: 1_000_000,
      timeout: 600,
      precommit_timeout: 590,
    }),
  });
  let bytes = 0;
  if (res.body !== null) for await (const c of res.body) bytes += (c as Uint8Array).length;
  ws.close();
  return { bytes, status: res.status };
}

async function run(frames: number, size: number): Promise<string> {
  const { startRouterNode } = await import("../src/node.js");
  const node = await startRouterNode({
    port: 0,
    logger: pino({ level: "silent" }),
    config: {
      sessions: [{ id: 0, model: "demo", mode: "ephemeral", context_length: 2_000_000 }],
    },
  });
  const child = fork(fileURLToPath(import.meta.url), ["--flood"], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const done = await new Promise<Done>((resolve, reject) => {
    child.on("message", (m: Done) => resolve(m));
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`flood process exited with ${code}`)));
    child.send({ url: `${node.url}/api/v3/completions/0`, wsUrl: node.wsUrl, frames, size });
  });
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;
  child.kill();
  await node.close();
  const ms = (cpu.user + cpu.system) / 1000;
  return (
    `  ${frames} frames × ${size} chars: status ${done.status}, ${done.bytes} bytes streamed | ` +
    `router CPU ${ms.toFixed(0)} ms (${((ms * 1000) / frames).toFixed(1)} µs/frame) | ` +
    `wall ${wall.toFixed(0)} ms`
  );
}

if (process.argv[2] === "--flood") {
  process.once("message", (job: Job) => {
    void flood(job).then((r) => process.send?.(r));
  });
} else {
  const args = process.argv.slice(2);
  const sizeAt = args.indexOf("--size");
  const size = sizeAt >= 0 ? Number(args[sizeAt + 1]) : 40;
  const counts = args
    .filter((a, i) => !a.startsWith("--") && (sizeAt < 0 || i !== sizeAt + 1))
    .map(Number);
  console.log("stream flood bench: router CPU for one streamed task of N token frames");
  for (const n of counts.length > 0 ? counts : [5000, 10000, 20000]) {
    console.log(await run(n, size));
  }
}
