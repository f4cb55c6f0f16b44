import { checkKeys, concurrencyKey, windowCellKey } from "./keys.js";
import type {
  AdmitRequest,
  CountedRef,
  LeaseRef,
  LimitDecision,
  Limiter,
  LimitState,
  WindowAdd,
} from "./types.js";

interface Evaluated {
  ok: boolean;
  est: number;
  reset: number;
  retry: number;
  keys: string[];
}

/**
 * In-process limits with the same semantics as the Lua script (same arithmetic, same order), for
 * a single gateway without Redis. JavaScript runs the whole decision without yielding, so it is
 * as atomic here as the script is in Redis.
 */
export class MemoryLimiter implements Limiter {
  private readonly counters = new Map<string, { value: number; expiresAt: number }>();
  private readonly leases = new Map<string, Map<string, number>>();
  private readonly sweep: NodeJS.Timeout;
  /** Period counters seeded (or being seeded) from the record, with when to forget that. */
  private readonly seeded = new Map<string, { done: Promise<void>; expiresAt: number }>();

  /**
   * `periodSeed`: requests already on record for an org since a period's start. A period counter
   * starts from it the first time this process sees it, so a restart keeps a weekly allowance
   * spent (Redis keeps it across restarts; this process's memory does not).
   */
  constructor(
    private readonly opts: {
      periodSeed?: (tag: string, periodStartMs: number) => Promise<number>;
    } = {},
  ) {
    // Counters carry their own expiry; a periodic sweep keeps the maps from growing forever.
    this.sweep = setInterval(() => this.purge(Date.now()), 60_000);
    this.sweep.unref();
  }

  async admit(req: AdmitRequest): Promise<LimitDecision> {
    if (this.opts.periodSeed) await this.seedPeriods(req, this.opts.periodSeed);
    const now = req.now ?? Date.now();
    const evaluated: Evaluated[] = [];
    let refused = 0;
    let retry = 0;
    req.checks.forEach((c, i) => {
      const keys = checkKeys(req.tag, c, now);
      const need = c.kind === "concurrency" ? 1 : Math.max(c.cost, 1);
      let e: Evaluated;
      if (c.kind === "window") {
        const w = c.windowMs;
        const elapsed = now % w;
        const cur = this.get(keys[0] ?? "", now);
        const prev = this.get(keys[1] ?? "", now);
        const est = (prev * (w - elapsed)) / w + cur;
        const ok = est + need <= c.limit;
        let r = 0;
        if (!ok) {
          const t = c.limit - need;
          if (t < 0) r = 2 * w;
          else if (cur <= t) r = Math.ceil(w - ((t - cur) * w) / prev - elapsed);
          else r = Math.ceil(w - elapsed + (w - (t * w) / cur));
          if (r < 1) r = 1;
        }
        e = { ok, est, reset: now - elapsed + w, retry: r, keys };
      } else if (c.kind === "period") {
        const v = this.get(keys[0] ?? "", now);
        const ok = v + need <= c.limit;
        const reset = c.periodStartMs + c.periodMs;
        e = { ok, est: v, reset, retry: ok ? 0 : Math.max(1, reset - now), keys };
      } else {
        const live = [...(this.leases.get(keys[0] ?? "")?.values() ?? [])].filter((x) => x > now);
        const ok = live.length + 1 <= c.limit;
        const reset = live.length > 0 ? Math.min(...live) : now;
        e = { ok, est: live.length, reset, retry: ok ? 0 : 1000, keys };
      }
      if (!e.ok && refused === 0) {
        refused = i + 1;
        retry = e.retry;
      }
      evaluated.push(e);
    });
    const apply = refused === 0 && !req.dryRun;
    const states: LimitState[] = req.checks.map((c, i) => {
      const e = evaluated[i] as Evaluated;
      let used = e.est;
      let reset = e.reset;
      if (apply) {
        if (c.kind === "window") {
          if (c.cost > 0) this.incr(e.keys[0] ?? "", c.cost, now + 2 * c.windowMs, now);
          used = e.est + c.cost;
        } else if (c.kind === "period") {
          this.incr(e.keys[0] ?? "", c.cost, now + c.periodMs + 86_400_000, now);
          used = e.est + c.cost;
        } else {
          const set = this.leases.get(e.keys[0] ?? "") ?? new Map<string, number>();
          for (const [lease, exp] of set) if (exp <= now) set.delete(lease);
          set.set(req.lease, now + c.ttlMs);
          this.leases.set(e.keys[0] ?? "", set);
          used = e.est + 1;
          if (reset === now) reset = now + c.ttlMs;
        }
      }
      used = Math.ceil(used);
      return {
        scope: c.scope,
        limit: c.limit,
        used,
        remaining: Math.max(0, c.limit - used),
        resetAtMs: reset,
      };
    });
    const decision: LimitDecision = { allowed: refused === 0, states };
    const check = req.checks[refused - 1];
    const state = states[refused - 1];
    if (refused > 0 && check && state) {
      decision.refused = { ...state, kind: check.kind, retryAfterMs: retry };
    }
    return decision;
  }

  async release(tag: string, concurrencyId: string, lease: string): Promise<void> {
    this.leases.get(concurrencyKey(tag, concurrencyId))?.delete(lease);
  }

  async finish(
    tag: string,
    lease: LeaseRef | null,
    adds: WindowAdd[],
    now = Date.now(),
  ): Promise<void> {
    if (lease) await this.release(tag, lease.concurrencyId, lease.lease);
    for (const a of adds) {
      if (a.amount > 0) {
        this.incr(windowCellKey(tag, a.id, a.windowMs, now), a.amount, now + 2 * a.windowMs, now);
      }
    }
  }

  async refund(tag: string, lease: LeaseRef | null, counted: CountedRef[]): Promise<void> {
    if (lease) await this.release(tag, lease.concurrencyId, lease.lease);
    const now = Date.now();
    for (const c of counted) {
      const entry = this.counters.get(c.key);
      if (!entry || entry.expiresAt <= now || entry.value <= 0) continue;
      entry.value -= Math.min(entry.value, c.amount);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sweep);
  }

  /** Seed each period counter of `req` once (concurrent first requests share one lookup). */
  private async seedPeriods(
    req: AdmitRequest,
    seed: (tag: string, periodStartMs: number) => Promise<number>,
  ): Promise<void> {
    const now = req.now ?? Date.now();
    for (const c of req.checks) {
      if (c.kind !== "period") continue;
      const key = checkKeys(req.tag, c, now)[0] ?? "";
      let entry = this.seeded.get(key);
      if (!entry) {
        const expiresAt = c.periodStartMs + c.periodMs + 86_400_000;
        const done = seed(req.tag, c.periodStartMs).then(
          (recorded) => {
            // Requests admitted while the lookup ran are already counted; take the larger.
            if (recorded > this.get(key, Date.now())) {
              this.counters.set(key, { value: recorded, expiresAt });
            }
          },
          () => {
            // No record to seed from (database down): count from zero, as before, and retry
            // on a later request.
            this.seeded.delete(key);
          },
        );
        entry = { done, expiresAt };
        this.seeded.set(key, entry);
      }
      await entry.done;
    }
  }

  private get(key: string, now: number): number {
    const entry = this.counters.get(key);
    if (!entry) return 0;
    if (entry.expiresAt <= now) {
      this.counters.delete(key);
      return 0;
    }
    return entry.value;
  }

  private incr(key: string, by: number, expiresAt: number, now: number): void {
    const entry = this.counters.get(key);
    const value = (entry && entry.expiresAt > now ? entry.value : 0) + by;
    this.counters.set(key, { value, expiresAt: Math.max(expiresAt, entry?.expiresAt ?? 0) });
  }

  private purge(now: number): void {
    for (const [k, v] of this.counters) if (v.expiresAt <= now) this.counters.delete(k);
    for (const [k, v] of this.seeded) if (v.expiresAt <= now) this.seeded.delete(k);
    for (const [k, set] of this.leases) {
      for (const [lease, exp] of set) if (exp <= now) set.delete(lease);
      if (set.size === 0) this.leases.delete(k);
    }
  }
}
