/** A prepaid org's live balance, all integer micro-USD. available = credits − spent − reserved. */
export interface BalanceSnapshot {
  /** Every non-usage ledger entry (purchases, grants, refunds, adjustments), from Postgres. */
  credits: bigint;
  /** Settled usage charges (ahead of the ledger by whatever the usage queue still holds). */
  spent: bigint;
  /** Reservations of requests in flight. */
  reserved: bigint;
}

export interface BalanceSeed {
  credits: bigint;
  spent: bigint;
  /** Number of non-usage ledger entries: credits only ever grow in entries (append-only). */
  watermark: number;
}

/** Which store holds a reservation (a failover store answers from Redis or from its fallback). */
export type ReservationVia = "primary" | "fallback";

/**
 * The shared mirror as one reserve saw it, as Redis stores it (decimal strings): credits, spent,
 * reserved (this request's reservation included), watermark. Parsed only when an outage needs it.
 */
export type MirrorState = readonly [credits: string, spent: string, reserved: string, wm: string];

export type ReserveResult =
  | { kind: "reserved"; via?: ReservationVia; seen?: MirrorState }
  | { kind: "insufficient"; available: bigint; seen?: MirrorState }
  | { kind: "missing" };

/** One request's hold on a balance: its id (settled once) and how long it may stay open. */
export interface Hold {
  id: string;
  /** Past this, a reservation never settled (a lost reply, a crashed instance) is freed. */
  ttlMs: number;
  /** Clock for tests; default Date.now(). */
  now?: number;
}

/**
 * The hot-path balance mirror: atomic reserve / settle / release. Redis (Lua) when configured,
 * in process otherwise, same semantics; the ledger in Postgres stays the source of truth.
 */
export interface BalanceStore {
  reserve(orgId: string, amount: bigint, hold: Hold): Promise<ReserveResult>;
  /**
   * Turn reservation `id` into a charge of `charge` (≤ reserved) and free the rest; once per id.
   * `reserved` 0 applies a charge made elsewhere (a failover's local mirror), once per id too.
   */
  settle(
    orgId: string,
    id: string,
    reserved: bigint,
    charge: bigint,
    via?: ReservationVia,
  ): Promise<void>;
  release(orgId: string, id: string, reserved: bigint, via?: ReservationVia): Promise<void>;
  /** Create the mirror from the ledger unless it already exists. */
  seed(orgId: string, seed: BalanceSeed): Promise<void>;
  /** Replace the credits total when `watermark` is at least the stored one. */
  setCredits(orgId: string, credits: bigint, watermark: number): Promise<void>;
  snapshot(orgId: string): Promise<BalanceSnapshot | null>;
}
