import { newId } from "@portal/contracts";
import type { Database } from "@portal/db";
import type { Logger } from "pino";
import { InsufficientBalanceError } from "../../domain-errors.js";
import { appendLedgerEntry, type CreditKind, ledgerSeed } from "./ledger.js";
import type { BalanceSnapshot, BalanceStore, Hold, ReserveResult } from "./types.js";

/** Credits are re-read from the ledger at most this often per org (bounded staleness). */
const RECONCILE_EVERY_MS = 60_000;
/** How long an unsettled hold lasts when the caller gives no bound. */
const DEFAULT_HOLD_TTL_MS = 10 * 60_000;

/** A held amount for one request: settle it with the real cost, or release it. */
export interface Reservation {
  readonly reservedMicros: bigint;
  /** What a request of this cost is charged: min(cost, reserved). */
  chargeFor(costMicros: bigint): bigint;
  /** Charge min(cost, reserved) and free the rest; returns what was charged. */
  settle(costMicros: bigint): Promise<bigint>;
  release(): Promise<void>;
}

/**
 * Prepaid balances: reserve before forwarding, settle after. The mirror (Redis or in-process) is
 * seeded from the ledger on first use and its credits re-read from the ledger after every credit
 * and at least once a minute, so a missed update heals itself.
 */
export class BalanceService {
  private readonly reconciledAt = new Map<string, number>();

  constructor(
    private readonly db: Database,
    readonly store: BalanceStore,
    private readonly logger: Logger,
  ) {}

  /**
   * Hold `amount` micro-USD for a request; throws InsufficientBalanceError when it does not fit.
   * `hold.id` (the request id) makes its settlement apply once; a hold never settled is freed
   * after `hold.ttlMs` (default 10 minutes). `attempt` replaces the store's reserve (the gate:
   * limits and reservation in one step); it is called again after seeding a missing mirror.
   */
  async reserve(
    orgId: string,
    amount: bigint,
    hold: Partial<Hold> = {},
    attempt?: (hold: Hold) => Promise<ReserveResult>,
  ): Promise<Reservation> {
    const h: Hold = {
      id: hold.id ?? newId("res"),
      ttlMs: hold.ttlMs ?? DEFAULT_HOLD_TTL_MS,
      ...(hold.now !== undefined && { now: hold.now }),
    };
    const tryReserve = attempt ?? ((x: Hold) => this.store.reserve(orgId, amount, x));
    let result = await tryReserve(h);
    if (result.kind === "missing") {
      await this.store.seed(orgId, await ledgerSeed(this.db, orgId));
      this.reconciledAt.set(orgId, Date.now());
      result = await tryReserve(h);
    } else {
      this.maybeReconcile(orgId);
    }
    if (result.kind === "insufficient")
      throw new InsufficientBalanceError(amount, result.available);
    if (result.kind === "missing")
      throw new Error(`balance mirror for ${orgId} could not be seeded`);
    let done = false;
    const via = result.via;
    // The reservation is the most a request can cost (max_tokens bounds the output).
    const chargeFor = (cost: bigint) => (cost < amount ? cost : amount);
    return {
      reservedMicros: amount,
      chargeFor,
      settle: async (cost) => {
        if (done) return 0n;
        done = true;
        const charge = chargeFor(cost);
        await this.store.settle(orgId, h.id, amount, charge, via);
        return charge;
      },
      release: async () => {
        if (done) return;
        done = true;
        await this.store.release(orgId, h.id, amount, via);
      },
    };
  }

  /** Record a credit-side ledger entry and push the new credits total to the mirror. */
  async credit(input: {
    orgId: string;
    kind: CreditKind;
    amountMicros: bigint;
    reference: string;
  }): Promise<boolean> {
    const added = await appendLedgerEntry(this.db, input);
    await this.reconcile(input.orgId);
    return added;
  }

  /** Re-read the org's credits from the ledger into the mirror. */
  async reconcile(orgId: string): Promise<void> {
    const seed = await ledgerSeed(this.db, orgId);
    this.reconciledAt.set(orgId, Date.now());
    await this.store.setCredits(orgId, seed.credits, seed.watermark);
  }

  /** The live balance (seeding the mirror if needed). */
  async snapshot(orgId: string): Promise<BalanceSnapshot & { available: bigint }> {
    let snap = await this.store.snapshot(orgId);
    if (!snap) {
      await this.store.seed(orgId, await ledgerSeed(this.db, orgId));
      snap = (await this.store.snapshot(orgId)) ?? { credits: 0n, spent: 0n, reserved: 0n };
    }
    return { ...snap, available: snap.credits - snap.spent - snap.reserved };
  }

  private maybeReconcile(orgId: string): void {
    const last = this.reconciledAt.get(orgId) ?? 0;
    if (Date.now() - last < RECONCILE_EVERY_MS) return;
    this.reconciledAt.set(orgId, Date.now());
    void this.reconcile(orgId).catch((err) =>
      this.logger.warn({ err, orgId }, "balance reconcile failed; will retry"),
    );
  }
}
