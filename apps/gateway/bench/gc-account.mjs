// Loaded into a bench target by bench/cost.ts (`--import`): the first SIGUSR2 opens a window,
// the second closes it and writes what V8's collectors saw in between to
// $GC_ACCOUNT_DIR/gc-account-<pid>.json: bytes allocated (young garbage included), bytes
// promoted to the old generation by scavenges, how many scavenges and mark-compacts ran and
// their pause time. Allocation is summed from the heap's size before each GC and after the last.
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { GCProfiler, getHeapStatistics } from "node:v8";

const out = path.join(process.env.GC_ACCOUNT_DIR ?? tmpdir(), `gc-account-${process.pid}.json`);
let profiler = null;
let startUsed = 0;

const oldSpace = (stats) =>
  stats.heapSpaceStatistics.find((s) => s.spaceName === "old_space")?.spaceUsedSize ?? 0;

process.on("SIGUSR2", () => {
  if (profiler === null) {
    profiler = new GCProfiler();
    startUsed = getHeapStatistics().used_heap_size;
    profiler.start();
    return;
  }
  const endUsed = getHeapStatistics().used_heap_size;
  const { statistics } = profiler.stop();
  profiler = null;
  const sum = { allocated: 0, promoted: 0, scavenges: 0, majors: 0, pauseMs: 0, maxPauseMs: 0 };
  let previous = startUsed;
  for (const gc of statistics) {
    sum.allocated += gc.beforeGC.heapStatistics.usedHeapSize - previous;
    previous = gc.afterGC.heapStatistics.usedHeapSize;
    const ms = gc.cost / 1000;
    sum.pauseMs += ms;
    sum.maxPauseMs = Math.max(sum.maxPauseMs, ms);
    if (gc.gcType === "Scavenge") {
      sum.scavenges++;
      sum.promoted += oldSpace(gc.afterGC) - oldSpace(gc.beforeGC);
    } else {
      sum.majors++;
    }
  }
  sum.allocated += endUsed - previous;
  writeFileSync(out, JSON.stringify(sum));
});
