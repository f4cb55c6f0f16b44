/**
 * In-process cache with a fresh window, a stale-while-revalidate window and negative caching
 * (a loader answering `null` is cached too, for `negativeTtlMs`). Concurrent misses for one key
 * share a single load, so a cold key never stampedes the database.
 */
export interface SwrCacheOptions {
  freshMs: number;
  staleMs: number;
  negativeTtlMs: number;
  maxEntries: number;
  now?: () => number;
}

interface Entry<V> {
  value: V | null;
  freshUntil: number;
  staleUntil: number;
}

export class SwrCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly inflight = new Map<string, Promise<V | null>>();
  private readonly now: () => number;

  constructor(
    private readonly opts: SwrCacheOptions,
    private readonly load: (key: string) => Promise<V | null>,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** The cached value, loading (or revalidating in the background) as needed. */
  async get(key: string): Promise<V | null> {
    const entry = this.entries.get(key);
    const now = this.now();
    if (entry && now < entry.freshUntil) return entry.value;
    if (entry && entry.value !== null && now < entry.staleUntil) {
      // Serve stale now; refresh in the background. A failed refresh keeps the stale value.
      void this.refresh(key).catch(() => {});
      return entry.value;
    }
    return this.refresh(key);
  }

  /** Drop one key (revocation, config change). */
  invalidate(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  private refresh(key: string): Promise<V | null> {
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const promise = this.load(key)
      .then((value) => {
        this.set(key, value);
        return value;
      })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, promise);
    return promise;
  }

  private set(key: string, value: V | null): void {
    if (this.entries.size >= this.opts.maxEntries && !this.entries.has(key)) {
      // Evict the oldest insertion (Map keeps insertion order): a cheap approximation of LRU.
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    const now = this.now();
    const ttl = value === null ? this.opts.negativeTtlMs : this.opts.freshMs;
    this.entries.delete(key);
    this.entries.set(key, {
      value,
      freshUntil: now + ttl,
      staleUntil: value === null ? now + ttl : now + this.opts.staleMs,
    });
  }
}
