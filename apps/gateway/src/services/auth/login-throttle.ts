/**
 * Sign-in attempts are counted per (email, client IP); past the limit, sign-in waits. An attempt
 * is counted as a failure when it starts, in the same step as the check, so parallel guesses
 * cannot all pass the check before any of them is counted; a success then clears the count.
 */
export interface LoginThrottle {
  /**
   * Check and count one attempt atomically: 0 = allowed (and counted), otherwise the seconds to
   * wait (nothing counted).
   */
  attempt(key: string): Promise<number>;
  /** A successful sign-in clears the count. */
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
 * In-process sliding-window throttle: at most `maxFailures` attempts not followed by a success
 * within `windowMs`. JavaScript runs `attempt` without yielding between check and count, so it
 * is atomic; a Redis implementation of the same interface covers many replicas.
 */
export class MemoryLoginThrottle implements LoginThrottle {
  private readonly failures = new Map<string, number[]>();
  private readonly now: () => number;
  private readonly maxKeys: number;

  constructor(private readonly opts: ThrottleOptions) {
    this.now = opts.now ?? Date.now;
    this.maxKeys = opts.maxKeys ?? 100_000;
  }

  async attempt(key: string): Promise<number> {
    // No await between the check and the count: that is what makes it atomic.
    const wait = this.waitFor(key);
    if (wait > 0) return wait;
    const recent = this.recent(key);
    recent.push(this.now());
    this.failures.delete(key);
    this.failures.set(key, recent);
    if (this.failures.size > this.maxKeys) {
      // Maps iterate in insertion order: drop the least recently failed key.
      const first = this.failures.keys().next();
      if (!first.done) this.failures.delete(first.value);
    }
    return 0;
  }

  async reset(key: string): Promise<void> {
    this.failures.delete(key);
  }

  /** Seconds to wait before another attempt is allowed (0 = now), counting nothing. */
  async retryAfter(key: string): Promise<number> {
    return this.waitFor(key);
  }

  private waitFor(key: string): number {
    const recent = this.recent(key);
    if (recent.length < this.opts.maxFailures) return 0;
    const oldest = recent[recent.length - this.opts.maxFailures] ?? this.now();
    return Math.max(1, Math.ceil((oldest + this.opts.windowMs - this.now()) / 1000));
  }

  private recent(key: string): number[] {
    const cutoff = this.now() - this.opts.windowMs;
    return (this.failures.get(key) ?? []).filter((t) => t > cutoff);
  }
}
