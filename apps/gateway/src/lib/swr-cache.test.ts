import { describe, expect, it } from "vitest";
import { SwrCache } from "./swr-cache.js";

function setup(loader: (k: string) => Promise<string | null>) {
  let now = 0;
  const cache = new SwrCache<string>(
    { freshMs: 100, staleMs: 1000, negativeTtlMs: 50, maxEntries: 3, now: () => now },
    loader,
  );
  return { cache, advance: (ms: number) => (now += ms) };
}

describe("SwrCache", () => {
  it("serves fresh values without reloading", async () => {
    let loads = 0;
    const { cache } = setup(async (k) => `${k}:${++loads}`);
    expect(await cache.get("a")).toBe("a:1");
    expect(await cache.get("a")).toBe("a:1");
    expect(loads).toBe(1);
  });

  it("serves stale values while revalidating in the background", async () => {
    let loads = 0;
    const { cache, advance } = setup(async (k) => `${k}:${++loads}`);
    await cache.get("a");
    advance(150);
    expect(await cache.get("a")).toBe("a:1");
    await new Promise((r) => setTimeout(r, 0));
    expect(await cache.get("a")).toBe("a:2");
  });

  it("reloads synchronously once past the stale window", async () => {
    let loads = 0;
    const { cache, advance } = setup(async (k) => `${k}:${++loads}`);
    await cache.get("a");
    advance(2000);
    expect(await cache.get("a")).toBe("a:2");
  });

  it("caches misses for the negative TTL only", async () => {
    let loads = 0;
    const { cache, advance } = setup(async () => {
      loads++;
      return null;
    });
    expect(await cache.get("x")).toBeNull();
    expect(await cache.get("x")).toBeNull();
    expect(loads).toBe(1);
    advance(60);
    await cache.get("x");
    expect(loads).toBe(2);
  });

  it("collapses concurrent misses into one load", async () => {
    let loads = 0;
    const { cache } = setup(async (k) => {
      loads++;
      await new Promise((r) => setTimeout(r, 5));
      return k;
    });
    const results = await Promise.all(Array.from({ length: 20 }, () => cache.get("k")));
    expect(new Set(results)).toEqual(new Set(["k"]));
    expect(loads).toBe(1);
  });

  it("evicts the oldest entry past maxEntries and honours invalidate", async () => {
    let loads = 0;
    const { cache } = setup(async (k) => `${k}:${++loads}`);
    for (const k of ["a", "b", "c", "d"]) await cache.get(k);
    expect(await cache.get("a")).toBe("a:5");
    cache.invalidate("d");
    expect(await cache.get("d")).toBe("d:6");
  });

  it("propagates loader errors and does not cache them", async () => {
    let fail = true;
    const { cache } = setup(async () => {
      if (fail) throw new Error("db down");
      return "ok";
    });
    await expect(cache.get("a")).rejects.toThrow("db down");
    fail = false;
    expect(await cache.get("a")).toBe("ok");
  });
});
