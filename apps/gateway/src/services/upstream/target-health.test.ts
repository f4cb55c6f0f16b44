import { startRouterNode } from "@portal/router";
import { startMiner } from "@portal/router/miner";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { closedPortUrl } from "../../testing/fake-router.js";
import type { PoolInfo, TargetInfo } from "../catalog.js";
import { TargetHealth } from "./target-health.js";
import { TargetSelector } from "./target-selector.js";

const logger = pino({ level: "silent" });
const target = (id: string, url = "http://127.0.0.1:1"): TargetInfo => ({
  id,
  url,
  sessionId: 0,
  routerKey: "default-dev-token",
  weight: 1,
  state: "active",
});

function clocked() {
  let now = 1_000;
  const health = new TargetHealth(
    { failureThreshold: 3, cooldownMs: 100, checkTimeoutMs: 500, now: () => now },
    logger,
  );
  return { health, advance: (ms: number) => (now += ms) };
}

describe("TargetHealth circuit", () => {
  it("opens after the threshold of consecutive failures and half-opens after the cooldown", () => {
    const { health, advance } = clocked();
    health.record("a", false);
    health.record("a", false);
    expect(health.view("a")).toBe("healthy");
    health.record("a", false);
    expect(health.view("a")).toBe("unhealthy");
    advance(101);
    expect(health.view("a")).toBe("healthy");
    // The probe fails: straight back to open.
    health.record("a", false);
    expect(health.view("a")).toBe("unhealthy");
    advance(101);
    health.record("a", true);
    expect(health.view("a")).toBe("healthy");
    health.record("a", false);
    expect(health.view("a")).toBe("healthy");
  });

  it("a success resets the failure count", () => {
    const { health } = clocked();
    health.record("a", false);
    health.record("a", false);
    health.record("a", true);
    health.record("a", false);
    health.record("a", false);
    expect(health.view("a")).toBe("healthy");
  });

  it("makes the selector try open-circuit targets last, but still try them", () => {
    const { health } = clocked();
    const selector = new TargetSelector(health);
    const pool: PoolInfo = {
      id: "p",
      name: "p",
      state: "active",
      targets: [target("a"), target("b")],
    };
    for (let i = 0; i < 3; i++) health.record("a", false);
    for (let i = 0; i < 4; i++) expect(selector.order(pool).map((t) => t.id)).toEqual(["b", "a"]);
    for (let i = 0; i < 3; i++) health.record("b", false);
    expect(
      selector
        .order(pool)
        .map((t) => t.id)
        .sort(),
    ).toEqual(["a", "b"]);
  });
});

describe("TargetHealth active checks", () => {
  it("is healthy with miners, unhealthy without, and unhealthy when the router is down", async () => {
    const health = new TargetHealth(
      { failureThreshold: 1, cooldownMs: 60_000, checkTimeoutMs: 1_000 },
      logger,
    );
    const node = await startRouterNode({ port: 0, logger });
    try {
      const live = target("live", node.url);
      expect(await health.check(live)).toBe(false); // no miner connected yet
      expect(health.view("live")).toBe("unhealthy");
      const miner = await startMiner({
        routerWsUrl: node.wsUrl,
        engine: "demo",
        models: ["demo"],
        logger,
      });
      expect(await health.check(live)).toBe(true);
      expect(health.view("live")).toBe("healthy");
      await miner.close();

      const wrongKey = { ...live, id: "wrong-key", routerKey: "nope" };
      expect(await health.check(wrongKey)).toBe(false);
    } finally {
      await node.close();
    }
    expect(await health.check(target("down", await closedPortUrl()))).toBe(false);
    expect(health.view("down")).toBe("unhealthy");
  });
});
