import type { ResolvedFeatures } from "../config.js";
import { InvalidTaskInputError, MissingV3SessionPoolError } from "./errors.js";
import type { Session, SessionRegistry } from "./sessions.js";

export const V3_TIERS = [1, 3, 5] as const;
export type V3Tier = (typeof V3_TIERS)[number];

/** One session of a v3 fan-out and how many replicas run on it. */
export interface PoolSlot {
  session: Session;
  replicas: number;
}

/** `consensus.replicas` or `replicas` (default 1); anything but 1, 3 or 5 is refused. */
export function replicaTier(consensusReplicas: number | undefined, replicas: number | undefined) {
  const n = consensusReplicas ?? replicas ?? 1;
  if (!(V3_TIERS as readonly number[]).includes(n)) {
    throw new InvalidTaskInputError(`replicas must be one of 1, 3, 5 (got ${n})`, {
      replicas: n,
      allowed: [...V3_TIERS],
    });
  }
  return n as V3Tier;
}

/**
 * The sessions a v3 request runs on: the configured pool of its tier (or the request's own
 * `consensus.session_pool`, which must name existing sessions), replicas spread round-robin.
 */
export function resolvePool(
  family: "delegate" | "validate",
  tier: V3Tier,
  features: ResolvedFeatures,
  sessions: SessionRegistry,
  requested?: number[],
): PoolSlot[] {
  const ids =
    requested !== undefined && requested.length > 0
      ? requested
      : features.v3_pools?.[family]?.[String(tier) as "1" | "3" | "5"];
  if (ids === undefined || ids.length === 0) {
    throw new MissingV3SessionPoolError(
      `no v3 ${family} session pool is configured for replicas=${tier}`,
      { family, replicas: tier },
    );
  }
  const slots = new Map<number, PoolSlot>();
  for (let i = 0; i < tier; i++) {
    const id = ids[i % ids.length] as number;
    const slot = slots.get(id);
    if (slot !== undefined) slot.replicas += 1;
    else slots.set(id, { session: sessions.get(id), replicas: 1 });
  }
  return [...slots.values()];
}
