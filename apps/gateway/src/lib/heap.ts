import { setFlagsFromString } from "node:v8";

/**
 * Let V8's old generation grow to at most 2× the heap that survived the last full GC, instead of
 * the up-to-4× its default heuristics allow on a host with plenty of memory. The gateway's live
 * heap is small (~50 MB: caches, code) and what it allocates per request dies young, so the
 * default let RSS climb to 250–350 MB under load with nothing to show for it; with this it stays
 * near 170 MB at the same throughput (docs/benchmarks.md). Not a cap: the heap still grows as far
 * as the work needs. Set at runtime rather than on the command line, so a Node.js whose V8 no
 * longer knows the flag keeps starting (V8 then ignores it).
 */
export function tuneHeapGrowth(): void {
  setFlagsFromString("--heap-growing-percent=100");
}
