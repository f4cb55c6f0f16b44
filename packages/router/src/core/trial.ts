import { TrialQuotaExceededError } from "./errors.js";

/** Requests per client IP over a sliding window; memory bounded by `maxClients`. */
export class TrialQuota {
  private readonly hits = new Map<string, number[]>();

  constructor(
    private readonly maxRequests: number,
    private readonly windowMs: number,
    private readonly maxClients = 100_000,
  ) {}

  /** Count one request for `ip`, or throw TrialQuotaExceededError (with Retry-After seconds). */
  take(ip: string, now = Date.now()): { remaining: number } {
    const since = now - this.windowMs;
    const recent = (this.hits.get(ip) ?? []).filter((t) => t > since);
    if (recent.length >= this.maxRequests) {
      const oldest = recent[0] ?? now;
      const retryAfterS = Math.max(1, Math.ceil((oldest + this.windowMs - now) / 1000));
      throw new TrialQuotaExceededError(
        `trial quota of ${this.maxRequests} request(s) per ${this.windowMs / 1000} s used up for this client`,
        retryAfterS,
        { limit: this.maxRequests, window_s: this.windowMs / 1000, retry_after_s: retryAfterS },
      );
    }
    recent.push(now);
    this.hits.delete(ip);
    this.hits.set(ip, recent);
    if (this.hits.size > this.maxClients) {
      const first = this.hits.keys().next();
      if (first.done !== true) this.hits.delete(first.value);
    }
    return { remaining: this.maxRequests - recent.length };
  }

  /** Give back the request counted for `ip` at `at` (it was refused before any work ran). */
  refund(ip: string, at: number): void {
    const recent = this.hits.get(ip);
    const i = recent?.indexOf(at) ?? -1;
    if (recent === undefined || i < 0) return;
    recent.splice(i, 1);
    if (recent.length === 0) this.hits.delete(ip);
  }
}
