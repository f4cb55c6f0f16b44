import { RouterStatus } from "@portal/contracts";
import type { Logger } from "pino";
import { request } from "undici";
import type { PoolInfo, TargetInfo } from "../catalog.js";

export interface TargetHealthOptions {
  /** Consecutive failures (checks or requests) that open a target's circuit. */
  failureThreshold: number;
  /** How long an open circuit keeps a target out before a probe is allowed. */
  cooldownMs: number;
  /** Active check timeout. */
  checkTimeoutMs: number;
  now?: () => number;
}

interface HealthState {
  consecutiveFailures: number;
  openUntil: number;
  /** Set by the last active check; unknown until the first one. */
  lastCheck: { ok: boolean; at: number; reason?: string } | null;
}

export type TargetHealthView = "healthy" | "unhealthy";

/** What operators see about one target: the routing verdict and why. */
export interface TargetHealthDetail {
  state: TargetHealthView;
  consecutiveFailures: number;
  /** When an open circuit lets a probe through again; null when closed. */
  circuitOpenUntil: number | null;
  /** The last active check; null before the first one. */
  lastCheck: { ok: boolean; at: number; reason?: string } | null;
}

/**
 * Health of router targets from two sources: active checks (`GET /api/v1/status`) and passive
 * outcomes of real requests. A target whose failures reach the threshold is taken out for a
 * cooldown (circuit open); afterwards one request or check may probe it (half-open).
 */
export class TargetHealth {
  private readonly states = new Map<string, HealthState>();
  private readonly now: () => number;

  constructor(
    private readonly opts: TargetHealthOptions,
    private readonly logger: Logger,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /**
   * Whether new work should go to this target now. After the cooldown the target is offered
   * again (half-open): the next outcome either closes the circuit or re-opens it.
   */
  view(targetId: string): TargetHealthView {
    const s = this.states.get(targetId);
    return s && s.openUntil > this.now() ? "unhealthy" : "healthy";
  }

  /** The verdict with its evidence (failure streak, circuit, last active check). */
  detail(targetId: string): TargetHealthDetail {
    const s = this.states.get(targetId);
    const open = s !== undefined && s.openUntil > this.now();
    return {
      state: open ? "unhealthy" : "healthy",
      consecutiveFailures: s?.consecutiveFailures ?? 0,
      circuitOpenUntil: open && s ? s.openUntil : null,
      lastCheck: s?.lastCheck ? { ...s.lastCheck } : null,
    };
  }

  /** Record the outcome of a request or check against a target. */
  record(targetId: string, ok: boolean, reason?: string): void {
    const s = this.state(targetId);
    if (ok) {
      if (s.openUntil > 0) this.logger.info({ targetId }, "target recovered");
      s.consecutiveFailures = 0;
      s.openUntil = 0;
      return;
    }
    s.consecutiveFailures++;
    if (s.consecutiveFailures >= this.opts.failureThreshold && s.openUntil <= this.now()) {
      s.openUntil = this.now() + this.opts.cooldownMs;
      this.logger.warn(
        { targetId, failures: s.consecutiveFailures, reason },
        "target circuit opened",
      );
    }
  }

  /** Check one target's `/api/v1/status`: healthy when it answers ok with a connected miner. */
  async check(target: TargetInfo): Promise<boolean> {
    let ok = false;
    let reason: string | undefined;
    try {
      const res = await request(`${target.url}/api/v1/status`, {
        headers: { authorization: `Bearer ${target.routerKey}` },
        headersTimeout: this.opts.checkTimeoutMs,
        bodyTimeout: this.opts.checkTimeoutMs,
      });
      const body = await res.body.text();
      const parsed = res.statusCode === 200 ? RouterStatus.safeParse(JSON.parse(body)) : null;
      ok = Boolean(
        parsed?.success && parsed.data.status === "ok" && parsed.data.miners.connected > 0,
      );
      if (!ok) reason = parsed?.success ? "no miners connected" : `status ${res.statusCode}`;
    } catch (err) {
      reason = (err as { code?: string }).code ?? (err as Error).message;
    }
    this.state(target.id).lastCheck = { ok, at: this.now(), ...(reason ? { reason } : {}) };
    this.record(target.id, ok, reason);
    return ok;
  }

  /** Check every target of every pool once (concurrently). */
  async checkAll(pools: PoolInfo[]): Promise<void> {
    const targets = pools.flatMap((p) => p.targets.filter((t) => t.state !== "disabled"));
    await Promise.all(targets.map((t) => this.check(t)));
  }

  private state(targetId: string): HealthState {
    let s = this.states.get(targetId);
    if (!s) {
      s = { consecutiveFailures: 0, openUntil: 0, lastCheck: null };
      this.states.set(targetId, s);
    }
    return s;
  }
}

/** Run active checks every `intervalMs` until the returned stop function is called. */
export function startHealthChecks(
  health: TargetHealth,
  pools: () => Promise<PoolInfo[]>,
  intervalMs: number,
  logger: Logger,
): () => void {
  let stopped = false;
  let running: Promise<void> | null = null;
  const tick = () => {
    if (stopped || running) return;
    running = pools()
      .then((p) => health.checkAll(p))
      .catch((err) => logger.warn({ err }, "health check round failed"))
      .finally(() => {
        running = null;
      });
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
