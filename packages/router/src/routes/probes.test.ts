import { afterEach, describe, expect, it } from "vitest";
import { createRouterApp } from "../app.js";
import { startTestRouter, type TestRouter } from "../testing/harness.js";

let t: TestRouter | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe("router probes", () => {
  it("/livez answers 200 without a token and without miners", async () => {
    t = await startTestRouter();
    const app = createRouterApp(t.node.core);
    const res = await app.request("/livez");
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ status: "ok" });
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("/readyz is 503 no_miners until a miner connects, then 200, without a token", async () => {
    t = await startTestRouter();
    const app = createRouterApp(t.node.core);
    const before = await app.request("/readyz");
    const beforeBody = await before.json();
    expect(before.status, JSON.stringify(beforeBody)).toBe(503);
    expect(beforeBody).toEqual({
      status: "unavailable",
      reason: "no_miners",
      checks: { sessions: 1, miners: 0 },
    });

    await t.addMiners(1);
    // The miner is registered once its hello is processed; poll briefly rather than sleep.
    let after = await app.request("/readyz");
    for (let i = 0; i < 50 && after.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 20));
      after = await app.request("/readyz");
    }
    const afterBody = await after.json();
    expect(after.status, JSON.stringify(afterBody)).toBe(200);
    expect(afterBody).toEqual({ status: "ready", checks: { sessions: 1, miners: 1 } });
  });

  it("serves the probes over the node's real listener, and other routes still need the key", async () => {
    t = await startTestRouter({}, 1);
    const live = await fetch(`${t.node.url}/livez`);
    expect(live.status).toBe(200);
    const ready = await fetch(`${t.node.url}/readyz`);
    expect(ready.status, await ready.clone().text()).toBe(200);
    const status = await fetch(`${t.node.url}/api/v1/status`);
    expect(status.status).toBe(401);
  });
});
