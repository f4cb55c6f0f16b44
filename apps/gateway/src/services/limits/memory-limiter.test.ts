import { describe, expect, it } from "vitest";
import { limiterSuite } from "./limiter.suite.js";
import { MemoryLimiter } from "./memory-limiter.js";

limiterSuite("in-process", () => new MemoryLimiter());

describe("in-process: weekly counter seeded from the record", () => {
  const WEEK = 7 * 86_400_000;
  const start = Date.UTC(2026, 10, 30); // a Monday
  const period = (limit: number) => ({
    kind: "period" as const,
    scope: "org_weekly_allowance" as const,
    id: "o:wk",
    limit,
    cost: 1,
    periodStartMs: start,
    periodMs: WEEK,
  });

  it("starts from the requests already on record, asking once per org and week", async () => {
    const asked: Array<[string, number]> = [];
    const l = new MemoryLimiter({
      periodSeed: async (tag, periodStartMs) => {
        asked.push([tag, periodStartMs]);
        return 3;
      },
    });
    const now = start + 86_400_000;
    // Concurrent first requests share one lookup.
    const [a, b] = await Promise.all([
      l.admit({ tag: "org1", checks: [period(5)], lease: "a", now }),
      l.admit({ tag: "org1", checks: [period(5)], lease: "b", now }),
    ]);
    expect([a.allowed, b.allowed]).toEqual([true, true]);
    expect(b.states[0]?.used).toBe(5);
    const c = await l.admit({ tag: "org1", checks: [period(5)], lease: "c", now });
    expect(c.allowed).toBe(false);
    expect(c.refused).toMatchObject({ scope: "org_weekly_allowance", limit: 5 });
    await l.admit({ tag: "org2", checks: [period(5)], lease: "d", now });
    expect(asked).toEqual([
      ["org1", start],
      ["org2", start],
    ]);
    await l.close();
  });

  it("counts from zero when the record cannot be read, and asks again later", async () => {
    let calls = 0;
    const l = new MemoryLimiter({
      periodSeed: async () => {
        calls++;
        if (calls === 1) throw new Error("database down");
        return 4;
      },
    });
    const now = start + 1000;
    const first = await l.admit({ tag: "o", checks: [period(5)], lease: "a", now });
    expect(first.states[0]?.used).toBe(1);
    const second = await l.admit({ tag: "o", checks: [period(5)], lease: "b", now });
    expect(second.states[0]?.used).toBe(5);
    expect(calls).toBe(2);
    await l.close();
  });
});
