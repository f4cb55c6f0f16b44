import type { PoolInfo, TargetInfo } from "../catalog.js";
import type { TargetHealth } from "./target-health.js";

/**
 * Chooses targets within a pool: weighted least-outstanding-requests over the active targets,
 * so a slow router naturally receives less work. Draining and disabled targets get nothing new;
 * targets whose circuit is open come last, tried only when no healthy target is left (a stale
 * health view must never be the only reason a request fails).
 */
export class TargetSelector {
  private readonly outstanding = new Map<string, number>();
  private turn = 0;

  constructor(private readonly health?: TargetHealth) {}

  /** Active targets in the order they should be tried (best first). */
  /**
   * Whether the pool can take work at all (active, with an active target of some weight): when
   * it cannot, a request is refused before the limits count it or money is held.
   */
  serves(pool: PoolInfo): boolean {
    return (
      pool.state === "active" && pool.targets.some((t) => t.state === "active" && t.weight > 0)
    );
  }

  order(pool: PoolInfo): TargetInfo[] {
    if (pool.state !== "active") return [];
    const active = pool.targets.filter((t) => t.state === "active" && t.weight > 0);
    // Rotate the starting point so equal scores spread across targets.
    const offset = this.turn++ % Math.max(1, active.length);
    const rotated = [...active.slice(offset), ...active.slice(0, offset)];
    const byScore = (a: TargetInfo, b: TargetInfo) => this.score(a) - this.score(b);
    if (!this.health) return rotated.sort(byScore);
    const healthy = rotated.filter((t) => this.health?.view(t.id) === "healthy").sort(byScore);
    const unhealthy = rotated.filter((t) => this.health?.view(t.id) !== "healthy").sort(byScore);
    return [...healthy, ...unhealthy];
  }

  /** Count a request against a target until the returned release function is called. */
  acquire(target: TargetInfo): () => void {
    this.outstanding.set(target.id, (this.outstanding.get(target.id) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.outstanding.set(target.id, Math.max(0, (this.outstanding.get(target.id) ?? 1) - 1));
    };
  }

  private score(t: TargetInfo): number {
    return ((this.outstanding.get(t.id) ?? 0) + 1) / t.weight;
  }
}
