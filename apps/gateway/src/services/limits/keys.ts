import type { AdmitRequest, CountedRef, LimitCheck } from "./types.js";

/** Redis keys of one check; every key carries the decision's `{tag}` so all share a slot. */
export function checkKeys(tag: string, check: LimitCheck, now: number): string[] {
  const base = `rl:{${tag}}:${check.id}`;
  if (check.kind === "window") {
    const cell = Math.floor(now / check.windowMs);
    return [`${base}:${cell}`, `${base}:${cell - 1}`];
  }
  if (check.kind === "period") return [`${base}:${check.periodStartMs}`];
  return [base];
}

/** The current cell key of a window. */
export function windowCellKey(tag: string, id: string, windowMs: number, now: number): string {
  return `rl:{${tag}}:${id}:${Math.floor(now / windowMs)}`;
}

/** The lease set key of a concurrency check. */
export function concurrencyKey(tag: string, id: string): string {
  return `rl:{${tag}}:${id}`;
}

/** The counters an applied decision added to (the checks that cost something), by key. */
export function countedRefs(req: AdmitRequest, now: number): CountedRef[] {
  const refs: CountedRef[] = [];
  for (const c of req.checks) {
    if (c.kind === "concurrency" || c.cost <= 0) continue;
    refs.push({ key: checkKeys(req.tag, c, now)[0] ?? "", amount: c.cost });
  }
  return refs;
}
