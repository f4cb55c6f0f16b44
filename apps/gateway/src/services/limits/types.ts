/** Which limit refused (or constrains) a request; shown to customers as `details.scope`. */
export type LimitScope =
  | "key_requests_per_minute"
  | "org_requests_per_minute"
  | "org_tokens_per_minute"
  | "key_tokens_per_minute"
  | "key_concurrency"
  | "org_weekly_allowance";

/**
 * One limit inside a decision.
 * - `window`: sliding window over two fixed cells (previous cell weighted by the part of it still
 *   inside the window, plus the current cell). Admits when `used + cost <= limit`; with `cost: 0`
 *   it only checks (`used < limit`) and the real amount is added later with `finish`.
 * - `period`: a fixed calendar period (the weekly allowance), `used + cost <= limit`.
 * - `concurrency`: leases with an expiry (a crashed holder's slot frees itself after `ttlMs`).
 */
export type LimitCheck =
  | { kind: "window"; scope: LimitScope; id: string; limit: number; cost: number; windowMs: number }
  | {
      kind: "period";
      scope: LimitScope;
      id: string;
      limit: number;
      cost: number;
      periodStartMs: number;
      periodMs: number;
    }
  | { kind: "concurrency"; scope: LimitScope; id: string; limit: number; ttlMs: number };

export interface LimitState {
  scope: LimitScope;
  limit: number;
  /** Amount in use now (a window's weighted estimate is rounded up). */
  used: number;
  remaining: number;
  /** Epoch ms when this limit next frees room (window cell end, period end, lease expiry). */
  resetAtMs: number;
}

export interface LimitDecision {
  allowed: boolean;
  /** Every check's state after the decision (in the order given). */
  states: LimitState[];
  /** The refusing check when not allowed. */
  refused?: LimitState & { kind: LimitCheck["kind"]; retryAfterMs: number };
}

export interface AdmitRequest {
  /** Hash tag shared by every check: all counters of one decision live in one cluster slot. */
  tag: string;
  checks: LimitCheck[];
  /** Lease id for concurrency checks (the request id). */
  lease: string;
  /** Epoch ms; injectable so both stores can be tested on the same clock. */
  now?: number;
  /** Compute states without changing anything (GET /v1/usage). */
  dryRun?: boolean;
}

/**
 * The limit store: one atomic check-and-increment per decision (all checks pass and are counted,
 * or nothing is counted). Implemented over Redis (Lua) and in process with the same semantics.
 */
export interface Limiter {
  admit(req: AdmitRequest): Promise<LimitDecision>;
  /** Free a concurrency lease (idempotent). */
  release(tag: string, concurrencyId: string, lease: string): Promise<void>;
  /**
   * End a request in one round trip: free its concurrency lease (idempotent; `null` when it was
   * already freed) and add amounts to windows (its real tokens).
   */
  finish(tag: string, lease: LeaseRef | null, adds: WindowAdd[], now?: number): Promise<void>;
  /**
   * Undo an admission whose request never ran (no router accepted it): free its lease and take
   * back what it counted. A counter is never taken below zero (one that expired meanwhile stays
   * gone), so a late or repeated refund cannot hand out room nobody used.
   */
  refund(tag: string, lease: LeaseRef | null, counted: CountedRef[]): Promise<void>;
  close(): Promise<void>;
}

/** A concurrency lease: the check's id and the lease (request) id. */
export interface LeaseRef {
  concurrencyId: string;
  lease: string;
}

/** A counter an admission added to (its store key) and by how much. */
export interface CountedRef {
  key: string;
  amount: number;
}

/** An amount added to a window once known (a request's real tokens). */
export interface WindowAdd {
  id: string;
  amount: number;
  windowMs: number;
}
