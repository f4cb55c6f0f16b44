import { newId } from "@portal/contracts";
import { describe, expect, it } from "vitest";
import { countedRefs } from "./keys.js";
import type { AdmitRequest, LimitCheck, Limiter } from "./types.js";

const W = 60_000;

/**
 * The one behaviour suite both limit stores must pass (run from memory-limiter.test.ts and
 * redis-limiter.int.test.ts). Every case uses a fresh tag and an injected clock.
 */
export function limiterSuite(name: string, make: () => Limiter) {
  describe(`${name}: limiter semantics`, () => {
    // A clock aligned to the start of a window cell, near real time (Redis expiries are real).
    const base = Math.floor(Date.now() / W) * W;
    const rpm = (limit: number, id = "k:rpm"): Extract<LimitCheck, { kind: "window" }> => ({
      kind: "window",
      scope: "key_requests_per_minute",
      id,
      limit,
      cost: 1,
      windowMs: W,
    });
    /** A check-only token window (cost 0: the real amount is added afterwards). */
    const tokens = (id: string, limit: number): LimitCheck => ({
      kind: "window",
      scope: id.startsWith("o:") ? "org_tokens_per_minute" : "key_tokens_per_minute",
      id,
      limit,
      cost: 0,
      windowMs: W,
    });
    const concurrency = (limit: number): LimitCheck => ({
      kind: "concurrency",
      scope: "key_concurrency",
      id: "k:conc",
      limit,
      ttlMs: 30_000,
    });

    it("admits up to the limit within a cell, then refuses with a retry hint", async () => {
      const l = make();
      const tag = newId("org");
      for (let i = 0; i < 5; i++) {
        const d = await l.admit({ tag, checks: [rpm(5)], lease: `r${i}`, now: base + 1000 });
        expect(d.allowed).toBe(true);
        expect(d.states[0]).toMatchObject({ limit: 5, used: i + 1, remaining: 4 - i });
      }
      const d = await l.admit({ tag, checks: [rpm(5)], lease: "r6", now: base + 1000 });
      expect(d.allowed).toBe(false);
      expect(d.refused).toMatchObject({ scope: "key_requests_per_minute", limit: 5, remaining: 0 });
      // All 5 in the current cell: room comes back as the cell slides out of the window.
      expect(d.refused?.retryAfterMs).toBe(W - 1000 + W - (4 * W) / 5);
      expect(d.states[0]?.resetAtMs).toBe(base + W);
    });

    it("weights the previous cell by how much of it is still inside the window", async () => {
      const l = make();
      const tag = newId("org");
      for (let i = 0; i < 10; i++)
        await l.admit({ tag, checks: [rpm(10)], lease: "x", now: base + 10 });
      // Next cell, 25% in: estimate = 10 × 0.75 = 7.5 → room for 2 more (9.5 ≤ 10), not 3.
      const t = base + W + W / 4;
      expect((await l.admit({ tag, checks: [rpm(10)], lease: "a", now: t })).allowed).toBe(true);
      expect((await l.admit({ tag, checks: [rpm(10)], lease: "b", now: t })).allowed).toBe(true);
      const third = await l.admit({ tag, checks: [rpm(10)], lease: "c", now: t });
      expect(third.allowed).toBe(false);
      // Need 10 × (W - e)/W + 2 ≤ 9 → e ≥ 0.3 W: 0.05 W from now.
      expect(third.refused?.retryAfterMs).toBe(Math.ceil(W - (7 * W) / 10 - W / 4));
      // Two cells later the old traffic is gone entirely.
      const later = await l.admit({ tag, checks: [rpm(10)], lease: "d", now: base + 2 * W + 1 });
      expect(later.allowed).toBe(true);
      expect(later.states[0]?.used).toBe(Math.ceil((2 * (W - 1)) / W + 1));
    });

    it("is all or nothing: a refused decision counts nothing anywhere", async () => {
      const l = make();
      const tag = newId("org");
      const checks = (): LimitCheck[] => [rpm(100, "k:rpm"), rpm(2, "o:rpm")];
      await l.admit({ tag, checks: checks(), lease: "1", now: base });
      await l.admit({ tag, checks: checks(), lease: "2", now: base });
      const refused = await l.admit({ tag, checks: checks(), lease: "3", now: base });
      expect(refused.allowed).toBe(false);
      expect(refused.refused?.limit).toBe(2);
      expect(refused.states[0]?.used).toBe(2); // the per-key window was not charged
      const peek = await l.admit({ tag, checks: checks(), lease: "4", now: base, dryRun: true });
      expect(peek.states.map((s) => s.used)).toEqual([2, 2]);
    });

    it("check-only windows (cost 0) refuse once the recorded amount reaches the limit", async () => {
      const l = make();
      const tag = newId("org");
      const tpm = tokens("o:tpm", 1000);
      expect((await l.admit({ tag, checks: [tpm], lease: "a", now: base })).allowed).toBe(true);
      await l.finish(tag, null, [{ id: "o:tpm", amount: 999, windowMs: W }], base);
      expect((await l.admit({ tag, checks: [tpm], lease: "b", now: base })).allowed).toBe(true);
      await l.finish(tag, null, [{ id: "o:tpm", amount: 5, windowMs: W }], base);
      const d = await l.admit({ tag, checks: [tpm], lease: "c", now: base + 10 });
      expect(d.allowed).toBe(false);
      expect(d.refused).toMatchObject({ scope: "org_tokens_per_minute", used: 1004, remaining: 0 });
    });

    it("a cost larger than the limit never fits", async () => {
      const l = make();
      const d = await l.admit({
        tag: newId("org"),
        checks: [{ ...rpm(3), cost: 4 }],
        lease: "a",
        now: base,
      });
      expect(d.allowed).toBe(false);
      expect(d.refused?.retryAfterMs).toBe(2 * W);
    });

    it("counts a period allowance and resets at the period end", async () => {
      const l = make();
      const tag = newId("org");
      const week = 7 * 86_400_000;
      const start = base - 86_400_000;
      const wk = (periodStartMs: number): LimitCheck => ({
        kind: "period",
        scope: "org_weekly_allowance",
        id: "o:wk",
        limit: 2,
        cost: 1,
        periodStartMs,
        periodMs: week,
      });
      expect((await l.admit({ tag, checks: [wk(start)], lease: "a", now: base })).allowed).toBe(
        true,
      );
      expect((await l.admit({ tag, checks: [wk(start)], lease: "b", now: base })).allowed).toBe(
        true,
      );
      const d = await l.admit({ tag, checks: [wk(start)], lease: "c", now: base });
      expect(d.refused).toMatchObject({
        kind: "period",
        scope: "org_weekly_allowance",
        resetAtMs: start + week,
        retryAfterMs: start + week - base,
      });
      const next = await l.admit({
        tag,
        checks: [wk(start + week)],
        lease: "d",
        now: start + week,
      });
      expect(next.allowed).toBe(true);
    });

    it("holds concurrency leases until released or expired", async () => {
      const l = make();
      const tag = newId("org");
      const conc = concurrency(2);
      expect((await l.admit({ tag, checks: [conc], lease: "a", now: base })).allowed).toBe(true);
      const b = await l.admit({ tag, checks: [conc], lease: "b", now: base + 5 });
      expect(b.states[0]).toMatchObject({ used: 2, remaining: 0, resetAtMs: base + 30_000 });
      const c = await l.admit({ tag, checks: [conc], lease: "c", now: base + 10 });
      expect(c.refused).toMatchObject({ scope: "key_concurrency", retryAfterMs: 1000 });
      await l.release(tag, "k:conc", "a");
      await l.release(tag, "k:conc", "a"); // idempotent
      expect((await l.admit({ tag, checks: [conc], lease: "c", now: base + 20 })).allowed).toBe(
        true,
      );
      // A holder that never releases (crash) stops counting after its ttl.
      const late = await l.admit({ tag, checks: [conc], lease: "d", now: base + 30_006 });
      expect(late.allowed).toBe(true);
      expect(late.states[0]?.used).toBe(2); // c and d; b expired at base + 30_005
    });

    it("finish frees the lease and adds the tokens in one call", async () => {
      const l = make();
      const tag = newId("org");
      const checks = [concurrency(1), tokens("o:tpm", 100), tokens("k:tpm", 100)];
      expect((await l.admit({ tag, checks, lease: "a", now: base })).allowed).toBe(true);
      expect((await l.admit({ tag, checks, lease: "b", now: base + 1 })).refused?.scope).toBe(
        "key_concurrency",
      );
      const adds = [
        { id: "o:tpm", amount: 60, windowMs: W },
        { id: "k:tpm", amount: 99, windowMs: W },
      ];
      await l.finish(tag, { concurrencyId: "k:conc", lease: "a" }, adds, base + 2);
      const b = await l.admit({ tag, checks, lease: "b", now: base + 3 });
      expect(b.allowed).toBe(true);
      expect(b.states.map((st) => st.used)).toEqual([1, 60, 99]);
      // Without a lease, and with nothing to add, finish only counts what it is given.
      await l.finish(tag, null, [{ id: "k:tpm", amount: 1, windowMs: W }], base + 4);
      await l.finish(tag, null, [], base + 4);
      const c = await l.admit({ tag, checks: [tokens("k:tpm", 100)], lease: "c", now: base + 5 });
      expect(c.refused).toMatchObject({ scope: "key_tokens_per_minute", used: 100 });
    });

    it("refund frees the lease and takes back what the admission counted", async () => {
      const l = make();
      const tag = newId("org");
      const week = 7 * 86_400_000;
      const wk: LimitCheck = {
        kind: "period",
        scope: "org_weekly_allowance",
        id: "o:wk",
        limit: 3,
        cost: 1,
        periodStartMs: base - 86_400_000,
        periodMs: week,
      };
      const checks = [rpm(2), tokens("o:tpm", 100), concurrency(1), wk];
      const req = (lease: string, now: number): AdmitRequest => ({ tag, checks, lease, now });
      const a = req("a", base + 10);
      expect((await l.admit(a)).allowed).toBe(true);
      expect(countedRefs(a, base + 10)).toHaveLength(2); // the request window and the week
      expect((await l.admit(req("b", base + 11))).refused?.scope).toBe("key_concurrency");
      await l.refund(tag, { concurrencyId: "k:conc", lease: "a" }, countedRefs(a, base + 10));
      const peek = await l.admit({ ...req("p", base + 12), dryRun: true });
      expect(peek.states.map((st) => st.used)).toEqual([0, 0, 0, 0]);
      // Refunding twice (or a counter nobody holds) never goes below zero: room stays exact.
      await l.refund(tag, null, countedRefs(a, base + 10));
      const b = req("b", base + 13);
      expect((await l.admit(b)).allowed).toBe(true);
      await l.refund(tag, { concurrencyId: "k:conc", lease: "b" }, []); // the lease only
      expect((await l.admit(req("c", base + 14))).states.map((st) => st.used)).toEqual([
        2, 0, 1, 2,
      ]);
      await l.release(tag, "k:conc", "c");
      expect((await l.admit(req("d", base + 15))).refused?.scope).toBe("key_requests_per_minute");
    });

    it("never admits more than the limit under parallel decisions", async () => {
      const l = make();
      const tag = newId("org");
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          l.admit({ tag, checks: [rpm(7)], lease: `p${i}`, now: base + 1 }),
        ),
      );
      expect(results.filter((r) => r.allowed)).toHaveLength(7);
    });
  });
}
