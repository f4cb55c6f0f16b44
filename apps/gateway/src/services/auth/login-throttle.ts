/** Failed sign-ins are counted per (email, client IP); past the limit, sign-in waits. */
export interface LoginThrottle {
  /** Seconds to wait before another attempt is allowed; 0 when allowed now. */
  retryAfter(key: string): Promise<number>;
  recordFailure(key: string): Promise<void>;
  /** A successful sign-in clears the failures. */
  reset(key: string): Promise<void>;
}

export interface ThrottleOptions {
  maxFailures: number;
  windowMs: number;
  now?: () => number;
  /** Bound on tracked keys so a flood of distinct emails cannot grow memory without limit. */
  maxKeys?: number;
}

/** The throttle key for a sign-in attempt. */
export function throttleKey(email: string, ip: string | null): string {
  return `${email.trim().toLowerCase()}|${ip ?? "unknown"}`;
}

/**
 * In-process sliding-window throttle: at most `maxFailures` failures within `windowMs`. Good for
 * one gateway; a Redis implementation of the same interface covers many replicas.
 */
export class MemoryLoginThrottle implements LoginThrottle {
  private readonly failures = new Map<string, number[]>();
  private readonly now: () => number;
  private readonly maxKeys: number;

  constructor(private readonly opts: ThrottleOptions) {
    this.now = opts.now ?? Date.now;
    this.maxKeys = opts.maxKeys ?? 100_000;
  }

  async retryAfter(key: string): Promise<number> {
    const recent = this.recent(key);
    if (recent.length < this.opts.maxFailures) return 0;
    const oldest = recent[recent.length - this.opts.maxFailures] ?? this.now();
    return Math.max(1, Math.ceil((oldest + this.opts.windowMs - this.now()) / 1000));
  }

  async recordFailure(key: string): Promise<void> {
    const recent = this.recent(key);
    recent.push(this.now());
    this.failures.delete(key);
    this.failures.set(key, recent);
    if (this.failures.size > this.maxKeys) {
      // Maps iterate in insertion order: drop the least recently failed key.
      const first = this.failures.keys().next();
      if (!first.done) this.failures.delete(first.value);
    }
  }

  async reset(key: string): Promise<void> {
    this.failures.delete(key);
  }

  private recent(key: string): number[] {
    const cutoff = this.now() - this.opts.windowMs;
    return (this.failures.get(key) ?? []).filter((t) => t > cutoff);
  }
}
