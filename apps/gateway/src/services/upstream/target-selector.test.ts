import { describe, expect, it } from "vitest";
import type { PoolInfo, TargetInfo } from "../catalog.js";
import { TargetSelector } from "./target-selector.js";

const target = (id: string, extra: Partial<TargetInfo> = {}): TargetInfo => ({
  id,
  url: `http://127.0.0.1/${id}`,
  sessionId: 0,
  routerKey: "k",
  weight: 1,
  state: "active",
  ...extra,
});
const pool = (targets: TargetInfo[], state: PoolInfo["state"] = "active"): PoolInfo => ({
  id: "p",
  name: "p",
  state,
  targets,
});

describe("TargetSelector", () => {
  it("skips draining and disabled targets and whole non-active pools", () => {
    const s = new TargetSelector();
    const p = pool([
      target("a", { state: "draining" }),
      target("b"),
      target("c", { state: "disabled" }),
    ]);
    expect(s.order(p).map((t) => t.id)).toEqual(["b"]);
    expect(s.order(pool([target("a")], "draining"))).toEqual([]);
  });

  it("prefers the target with the fewest outstanding requests", () => {
    const s = new TargetSelector();
    const a = target("a");
    const b = target("b");
    const release = s.acquire(a);
    expect(s.order(pool([a, b]))[0]?.id).toBe("b");
    release();
    release(); // idempotent
    const firsts = new Set(Array.from({ length: 4 }, () => s.order(pool([a, b]))[0]?.id));
    expect(firsts).toEqual(new Set(["a", "b"]));
  });

  it("spreads load in proportion to weight", () => {
    const s = new TargetSelector();
    const heavy = target("heavy", { weight: 3 });
    const light = target("light", { weight: 1 });
    const held: Record<string, number> = { heavy: 0, light: 0 };
    for (let i = 0; i < 40; i++) {
      const first = s.order(pool([heavy, light]))[0];
      if (!first) throw new Error("no target");
      s.acquire(first);
      held[first.id] = (held[first.id] ?? 0) + 1;
    }
    expect(held.heavy).toBe(30);
    expect(held.light).toBe(10);
  });
});
