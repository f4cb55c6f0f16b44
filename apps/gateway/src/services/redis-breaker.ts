import type { Redis } from "ioredis";
import type { Logger } from "pino";

/** Reply errors that mean "Redis cannot serve right now", not "our command is wrong". */
const UNAVAILABLE_REPLIES = /^(LOADING|BUSY|MASTERDOWN|READONLY|CLUSTERDOWN|TRYAGAIN|NOREPLICAS)\b/;

/**
 * True when a Redis call failed because Redis is unreachable or not serving (connection refused
 * or reset, command timeout, offline queue disabled, still loading its data), as opposed to a
 * reply error from a wrong command or script, which is a bug and must surface.
 */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === "ReplyError") return UNAVAILABLE_REPLIES.test(err.message);
  return true;
}

export interface RedisBreakerOptions {
  /** After a failure, stay on the fallback this long before trying Redis again (default 1 s). */
  cooldownMs?: number;
  /** Called with the operation name each time a fallback serves a call. */
  onFallback?: (op: string) => void;
}

/**
 * Circuit breaker in front of the shared command connection. Closed: calls go to Redis. Open
 * (connection not `ready`, or a call failed for availability within the last `cooldownMs`):
 * calls go straight to the local fallback without waiting on a dead socket. After the cooldown
 * the next call probes Redis again (half-open); success keeps it closed. Listeners registered
 * with `onRecover` run when the connection is ready again after an outage (outage reconciliation).
 */
export class RedisBreaker {
  private openUntil = 0;
  private down = false;
  private stopped = false;
  private readonly recoverHandlers: Array<() => Promise<void> | void> = [];
  private readonly cooldownMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
    private readonly opts: RedisBreakerOptions = {},
  ) {
    this.cooldownMs = opts.cooldownMs ?? 1_000;
    redis.on("ready", () => this.recovered());
    // Any closed connection counts: a reconnect that later succeeds runs the recovery steps.
    redis.on("close", () => this.markDown("connection closed"));
  }

  /** Shutting down: a closing connection is no outage. */
  stop(): void {
    this.stopped = true;
  }

  /** True while calls go to Redis (connection ready and no recent failure). */
  get closed(): boolean {
    return this.redis.status === "ready" && Date.now() >= this.openUntil;
  }

  /** Run `fn` after every recovery from an outage. */
  onRecover(fn: () => Promise<void> | void): void {
    this.recoverHandlers.push(fn);
  }

  /** Redis when the breaker is closed; the fallback when open or when Redis fails for availability. */
  async run<T>(op: string, primary: () => Promise<T>, fallback: () => Promise<T>): Promise<T> {
    if (!this.closed) {
      this.opts.onFallback?.(op);
      return fallback();
    }
    try {
      const out = await primary();
      // A timeout-only outage never closes the socket, so "ready" does not fire: recover here.
      if (this.down) this.recovered();
      return out;
    } catch (err) {
      if (!isRedisUnavailable(err)) throw err;
      this.trip(err);
      this.opts.onFallback?.(op);
      return fallback();
    }
  }

  /** Like {@link run} with no fallback: a best-effort Redis call that never throws for availability. */
  async tryRun(op: string, primary: () => Promise<void>): Promise<void> {
    await this.run(op, primary, async () => {});
  }

  private trip(err: unknown): void {
    this.openUntil = Date.now() + this.cooldownMs;
    this.markDown((err as Error).message);
  }

  private recovered(): void {
    if (!this.down || this.stopped) return;
    this.down = false;
    this.openUntil = 0;
    this.logger.warn("redis reachable again: limits, balances and usage back on Redis");
    for (const fn of this.recoverHandlers) {
      Promise.resolve()
        .then(fn)
        .catch((err) => this.logger.error({ err }, "redis recovery step failed"));
    }
  }

  private markDown(reason: string): void {
    if (this.down || this.stopped) return;
    this.down = true;
    this.logger.error(
      { reason },
      "redis unavailable: limits on local counters, usage to the local spool, until it is back",
    );
  }
}
