import { QuotaExceededError, RateLimitedError, type RateLimitInfo } from "../../domain-errors.js";
import type { KeyRecord } from "../key-store.js";
import { countedRefs } from "./keys.js";
import type {
  AdmitRequest,
  LimitCheck,
  LimitDecision,
  Limiter,
  LimitState,
  WindowAdd,
} from "./types.js";

const MINUTE = 60_000;
const WEEK = 7 * 86_400_000;
const CONCURRENCY_ID = (keyId: string) => `k:${keyId}:conc`;
const TOKENS_ORG = "o:tpm";
const TOKENS_KEY = (keyId: string) => `k:${keyId}:tpm`;

/** Monday 00:00 UTC of the ISO week containing `now` (epoch ms). */
export function isoWeekStart(now: number): number {
  const d = new Date(now);
  const day = (d.getUTCDay() + 6) % 7; // Monday = 0
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - day);
}

/** Every limit that applies to one request of this key. Counters are tagged by org. */
export function limitChecks(key: KeyRecord, now: number, leaseTtlMs: number): LimitCheck[] {
  const l = key.limits;
  const checks: LimitCheck[] = [
    {
      kind: "window",
      scope: "key_requests_per_minute",
      id: `k:${key.keyId}:rpm`,
      limit: l.keyRequestsPerMinute,
      cost: 1,
      windowMs: MINUTE,
    },
    {
      kind: "window",
      scope: "org_requests_per_minute",
      id: "o:rpm",
      limit: l.orgRequestsPerMinute,
      cost: 1,
      windowMs: MINUTE,
    },
    // Tokens are unknown until the answer: admit while the window has room, add the real count
    // afterwards (documented: concurrent requests can overshoot by their own tokens).
    {
      kind: "window",
      scope: "org_tokens_per_minute",
      id: TOKENS_ORG,
      limit: l.orgTokensPerMinute,
      cost: 0,
      windowMs: MINUTE,
    },
  ];
  if (l.keyTokensPerMinute !== null) {
    checks.push({
      kind: "window",
      scope: "key_tokens_per_minute",
      id: TOKENS_KEY(key.keyId),
      limit: l.keyTokensPerMinute,
      cost: 0,
      windowMs: MINUTE,
    });
  }
  checks.push({
    kind: "concurrency",
    scope: "key_concurrency",
    id: CONCURRENCY_ID(key.keyId),
    limit: l.keyConcurrency,
    ttlMs: leaseTtlMs,
  });
  if (l.weeklyAllowance !== null) {
    checks.push({
      kind: "period",
      scope: "org_weekly_allowance",
      id: "o:wk",
      limit: l.weeklyAllowance,
      cost: 1,
      periodStartMs: isoWeekStart(now),
      periodMs: WEEK,
    });
  }
  return checks;
}

/** The request-count limit with the least room: what X-RateLimit-* describe. */
export function headlineLimit(states: LimitState[]): RateLimitInfo | null {
  let best: LimitState | null = null;
  for (const s of states) {
    if (s.scope === "key_concurrency" || s.scope.endsWith("tokens_per_minute")) continue;
    if (!best || s.remaining < best.remaining) best = s;
  }
  return best ? toInfo(best) : null;
}

function toInfo(s: LimitState): RateLimitInfo {
  return { limit: s.limit, remaining: s.remaining, reset: Math.ceil(s.resetAtMs / 1000) };
}

/** An admitted request: its limit headers, and what to do when it ends. */
export interface Admission {
  info: RateLimitInfo | null;
  /** Free the concurrency slot; safe to call more than once. */
  release(): Promise<void>;
  /** The end of the request, in one round trip: free the slot, count its real tokens. */
  finish(tokens: number): Promise<void>;
  /**
   * The request never ran (no router accepted it): free the slot and take back what admitting
   * it counted (requests per minute, the weekly allowance), so an outage of ours does not spend
   * the customer's limits while they retry.
   */
  refund(): Promise<void>;
}

/** The one limit decision of a request (`lease` is its request id). */
export function admitRequest(args: {
  key: KeyRecord;
  requestId: string;
  leaseTtlMs: number;
  now?: number;
}): AdmitRequest {
  const now = args.now ?? Date.now();
  const checks = limitChecks(args.key, now, args.leaseTtlMs);
  return { tag: args.key.orgId, checks, lease: args.requestId, now };
}

/**
 * Run the one limit decision for a request; throws `RateLimitedError` / `QuotaExceededError`
 * when refused (nothing counted), returns the admission otherwise.
 */
export async function admit(
  limiter: Limiter,
  args: { key: KeyRecord; requestId: string; leaseTtlMs: number; now?: number },
): Promise<Admission> {
  const req = admitRequest(args);
  return admissionOf(limiter, args.key, req, await limiter.admit(req));
}

/** The admission a decision made (taken elsewhere, e.g. by the gate); throws when refused. */
export function admissionOf(
  limiter: Limiter,
  key: KeyRecord,
  req: AdmitRequest,
  decision: LimitDecision,
): Admission {
  if (!decision.allowed) throw limitRefusal(decision);
  const requestId = req.lease;
  let released = false;
  let refunded = false;
  return {
    info: headlineLimit(decision.states),
    release: async () => {
      if (released) return;
      released = true;
      await limiter.release(key.orgId, CONCURRENCY_ID(key.keyId), requestId);
    },
    finish: (tokens) => {
      const lease = released
        ? null
        : { concurrencyId: CONCURRENCY_ID(key.keyId), lease: requestId };
      released = true;
      return limiter.finish(key.orgId, lease, tokenAdds(key, tokens));
    },
    refund: async () => {
      if (refunded) return;
      refunded = true;
      const lease = released
        ? null
        : { concurrencyId: CONCURRENCY_ID(key.keyId), lease: requestId };
      released = true;
      await limiter.refund(key.orgId, lease, countedRefs(req, req.now ?? Date.now()));
    },
  };
}

/** The token windows a request's real tokens go to (none for a request that used none). */
function tokenAdds(key: KeyRecord, tokens: number): WindowAdd[] {
  if (tokens <= 0) return [];
  const adds: WindowAdd[] = [{ id: TOKENS_ORG, amount: tokens, windowMs: MINUTE }];
  if (key.limits.keyTokensPerMinute !== null) {
    adds.push({ id: TOKENS_KEY(key.keyId), amount: tokens, windowMs: MINUTE });
  }
  return adds;
}

/** Current state of every limit of a key without counting anything (GET /v1/usage). */
export async function peekLimits(
  limiter: Limiter,
  key: KeyRecord,
  now = Date.now(),
): Promise<LimitState[]> {
  const checks = limitChecks(key, now, 1);
  const decision = await limiter.admit({
    tag: key.orgId,
    checks,
    lease: "peek",
    now,
    dryRun: true,
  });
  return decision.states;
}

/** The RateLimitedError / QuotaExceededError of a decision that refused. */
export function limitRefusal(decision: LimitDecision): Error {
  const r = decision.refused;
  if (!r) return new Error("limit decision refused without a reason");
  const retryAfterSeconds = Math.max(1, Math.ceil(r.retryAfterMs / 1000));
  const info: RateLimitInfo = {
    limit: r.limit,
    remaining: 0,
    reset: Math.ceil((Date.now() + r.retryAfterMs) / 1000),
  };
  if (r.scope === "org_weekly_allowance") {
    return new QuotaExceededError(r.limit, new Date(r.resetAtMs), {
      ...info,
      reset: Math.ceil(r.resetAtMs / 1000),
    });
  }
  return new RateLimitedError(r.scope, r.limit, retryAfterSeconds, info);
}
