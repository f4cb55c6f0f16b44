// Allocation profile of a bench target: what it allocates (including objects young GCs already
// collected), which `--heap-prof` alone does not show (it reports what is still live at exit).
// Usage, from apps/gateway:
//   BENCH_NODE_FLAGS="--import ./bench/alloc-profile.mjs" ALLOC_START_MS=5000 ALLOC_STOP_MS=11000 \
//     BENCH_COMPILED=1 ... npx tsx bench/run.ts
// Samples from ALLOC_START_MS to ALLOC_STOP_MS after the process starts (keep the window inside
// a measured round) and writes ALLOC_OUT (default /tmp/alloc-<pid>.heapprofile), which Chrome
// DevTools (Memory tab) opens.
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";

const session = new Session();
session.connect();
const post = (method, params = {}) =>
  new Promise((resolve, reject) =>
    session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))),
  );
const startAt = Number(process.env.ALLOC_START_MS ?? 5_000);
const stopAt = Number(process.env.ALLOC_STOP_MS ?? 11_000);
const out = process.env.ALLOC_OUT ?? `/tmp/alloc-${process.pid}.heapprofile`;

setTimeout(async () => {
  try {
    await post("HeapProfiler.enable");
    await post("HeapProfiler.startSampling", {
      samplingInterval: 16_384,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    setTimeout(async () => {
      try {
        const { profile } = await post("HeapProfiler.stopSampling");
        writeFileSync(out, JSON.stringify(profile));
      } catch (err) {
        process.stderr.write(`alloc-profile: ${err}\n`);
      }
    }, stopAt - startAt).unref();
  } catch (err) {
    process.stderr.write(`alloc-profile: ${err}\n`);
  }
}, startAt).unref();
