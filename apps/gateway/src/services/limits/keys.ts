import type { LimitCheck } from "./types.js";

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
