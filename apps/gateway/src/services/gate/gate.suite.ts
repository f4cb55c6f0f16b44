import { newId } from "@portal/contracts";
import { beforeAll, describe, expect, it } from "vitest";
import type { BalanceStore } from "../balance/types.js";
import type { AdmitRequest, LimitCheck, Limiter } from "../limits/types.js";
import type { GateStore } from "./types.js";

/**
 * One suite for both gates (RedisGate's one script, SequentialGate over the in-process stores):
 * limits and reservation applied together or not at all, with the answers the limit and balance
 * stores give on their own. `make` returns a gate and the two stores it decides over.
 */
export function gateSuite(
  name: string,
  make: () => { gate: GateStore; limiter: Limiter; balance: BalanceStore },
): void {
  const NOW = 1_700_000_030_000;
  let gate: GateStore;
  let limiter: Limiter;
  let balance: BalanceStore;
  const setup = () => {
    ({ gate, limiter, balance } = make());
    return undefined;
  };
  function request(org: string, opts: { rpm?: number; concurrency?: number } = {}): AdmitRequest {
    const checks: LimitCheck[] = [
      {
        kind: "window",
        scope: "key_requests_per_minute",
        id: "k:1:rpm",
        limit: opts.rpm ?? 10,
        cost: 1,
        windowMs: 60_000,
      },
      {
        kind: "window",
        scope: "org_tokens_per_minute",
        id: "o:tpm",
        limit: 1_000,
        cost: 0,
        windowMs: 60_000,
      },
      {
        kind: "concurrency",
        scope: "key_concurrency",
        id: "k:1:conc",
        limit: opts.concurrency ?? 5,
        ttlMs: 30_000,
      },
    ];
    return { tag: org, checks, lease: newId("req"), now: NOW };
  }

  const hold = (org: string, amount: bigint) => ({
    orgId: org,
    amount,
    hold: { id: newId("req"), ttlMs: 30_000 },
  });

  /** What the limits hold now, without changing anything. */
  async function usedOf(org: string): Promise<number[]> {
    const d = await limiter.admit({ ...request(org), dryRun: true });
    return d.states.map((s) => s.used);
  }

  async function seeded(credits: bigint): Promise<string> {
    const org = newId("org");
    await balance.seed(org, { credits, spent: 0n, watermark: 1 });
    return org;
  }

  describe(`${name} gate`, () => {
    beforeAll(setup);
    it("admits and holds in one step, with the limit store's own answers", async () => {
      const org = await seeded(1_000n);
      const req = request(org);
      const entry = await gate.enter(req, hold(org, 300n));
      expect(entry.reserve).toMatchObject({ kind: "reserved" });
      expect(entry.decision.allowed).toBe(true);
      expect(entry.decision.states.map((s) => [s.scope, s.used, s.remaining])).toEqual([
        ["key_requests_per_minute", 1, 9],
        ["org_tokens_per_minute", 0, 1_000],
        ["key_concurrency", 1, 4],
      ]);
      // A twin org through the limit script alone decides the same.
      const twin = await seeded(1_000n);
      const alone = await limiter.admit({ ...request(twin), lease: req.lease });
      expect(alone).toEqual(entry.decision);
      expect(await usedOf(org)).toEqual([1, 0, 1]);
      expect(await balance.snapshot(org)).toEqual({ credits: 1_000n, spent: 0n, reserved: 300n });
    });

    it("holds no money for a request the limits refuse", async () => {
      const org = await seeded(1_000n);
      await gate.enter(request(org, { rpm: 1 }), hold(org, 100n));
      const refused = await gate.enter(request(org, { rpm: 1 }), hold(org, 100n));
      expect(refused.reserve).toBeNull();
      expect(refused.decision).toMatchObject({
        allowed: false,
        refused: { scope: "key_requests_per_minute", kind: "window", limit: 1 },
      });
      expect(await usedOf(org)).toEqual([1, 0, 1]);
      expect(await balance.snapshot(org)).toEqual({ credits: 1_000n, spent: 0n, reserved: 100n });
    });

    it("counts no limit for a request the balance refuses", async () => {
      const org = await seeded(250n);
      const entry = await gate.enter(request(org), hold(org, 300n));
      expect(entry.reserve).toMatchObject({ kind: "insufficient", available: 250n });
      // The limits would have admitted it (their figures still go to the client), unapplied.
      expect(entry.decision.allowed).toBe(true);
      expect(await usedOf(org)).toEqual([0, 0, 0]);
      expect(await balance.snapshot(org)).toEqual({ credits: 250n, spent: 0n, reserved: 0n });
    });

    it("a request both would refuse is refused by its limits (the same answer either gate)", async () => {
      const org = await seeded(250n);
      await gate.enter(request(org, { concurrency: 1 }), hold(org, 100n));
      const both = await gate.enter(request(org, { concurrency: 1 }), hold(org, 300n));
      expect(both.reserve).toBeNull();
      expect(both.decision.refused).toMatchObject({ scope: "key_concurrency" });
      expect(await balance.snapshot(org)).toEqual({ credits: 250n, spent: 0n, reserved: 100n });
    });

    it("changes nothing when the org has no mirror yet", async () => {
      const org = newId("org");
      const entry = await gate.enter(request(org), hold(org, 10n));
      expect(entry.reserve).toEqual({ kind: "missing" });
      expect(await usedOf(org)).toEqual([0, 0, 0]);
      expect(await balance.snapshot(org)).toBeNull();
    });

    it("takes a hold the balance store settles once", async () => {
      const org = await seeded(1_000n);
      const h = hold(org, 300n);
      await gate.enter(request(org), h);
      await balance.settle(org, h.hold.id, 300n, 120n);
      await balance.settle(org, h.hold.id, 300n, 120n);
      expect(await balance.snapshot(org)).toEqual({ credits: 1_000n, spent: 120n, reserved: 0n });
    });

    it("frees an expired hold on the next admission", async () => {
      const org = await seeded(1_000n);
      await gate.enter(request(org), hold(org, 900n));
      const later = { ...request(org), now: NOW + 31_000 };
      const entry = await gate.enter(later, hold(org, 900n));
      expect(entry.reserve).toMatchObject({ kind: "reserved" });
      expect(await balance.snapshot(org)).toEqual({ credits: 1_000n, spent: 0n, reserved: 900n });
    });

    it("refuses a decision whose counters are not the balance's org, and dry runs", async () => {
      const org = await seeded(1_000n);
      await expect(gate.enter(request("another-org"), hold(org, 1n))).rejects.toThrow(/gate/);
      await expect(gate.enter({ ...request(org), dryRun: true }, hold(org, 1n))).rejects.toThrow(
        /gate/,
      );
    });
  });
}
