import { describe, expect, it } from "vitest";
import { UpstreamTimeoutError } from "../../domain-errors.js";
import { routerAnswer, startFakeRouter } from "../../testing/fake-router.js";
import type { TargetInfo } from "../catalog.js";
import { RouterClient } from "./router-client.js";

const answer = JSON.stringify(routerAnswer({ session_id: 3 }));

describe("RouterClient.complete", () => {
  it("keeps a target URL's path prefix (a router behind a proxy path) on every request", async () => {
    const router = await startFakeRouter((_req, _body, res) => {
      res.writeHead(200, { "content-type": "application/json" }).end(answer);
    });
    try {
      const client = new RouterClient();
      const target = (url: string, sessionId: number): TargetInfo => ({
        id: `t${sessionId}`,
        url,
        sessionId,
        routerKey: "k",
        weight: 1,
        state: "active",
      });
      const body = { prompt: "hi", max_tokens: 1, client_reference: "req_1" };
      await client.complete(target(`${router.url}/edge/router/`, 3), body, 5_000);
      await client.complete(target(`${router.url}/edge/router/`, 3), body, 5_000);
      await client.complete(target(router.url, 0), body, 5_000);
      expect(router.requests.map((r) => r.path)).toEqual([
        "/edge/router/api/v3/completions/3",
        "/edge/router/api/v3/completions/3",
        "/api/v3/completions/0",
      ]);
      expect(router.requests[0]?.auth).toBe("Bearer k");
    } finally {
      await router.close();
    }
  });

  it("holds the whole call to its deadline: a router trickling bytes cannot outlive it", async () => {
    // Headers at once, then a space every 100 ms (each resets undici's idle body timer), then
    // the answer after ~1.5 s; the call's deadline is 400 ms.
    const timers: NodeJS.Timeout[] = [];
    let answered = false;
    const router = await startFakeRouter((_req, _body, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      let n = 0;
      const tick = setInterval(() => {
        if (res.destroyed) return clearInterval(tick);
        if (++n < 15) res.write(" ");
        else {
          clearInterval(tick);
          answered = true;
          res.end(answer);
        }
      }, 100);
      timers.push(tick);
    });
    try {
      const client = new RouterClient();
      const target: TargetInfo = {
        id: "t1",
        url: router.url,
        sessionId: 0,
        routerKey: "k",
        weight: 1,
        state: "active",
      };
      const call = client.complete(target, { prompt: "hi", max_tokens: 1 }, 400);
      await expect(call).rejects.toBeInstanceOf(UpstreamTimeoutError);
      // It failed at its deadline, before the router got round to answering.
      expect(answered).toBe(false);
      // A router that answers in time is unaffected by the timer.
      const quick = await startFakeRouter((_req, _body, res) => {
        res.writeHead(200, { "content-type": "application/json" }).end(answer);
      });
      try {
        const ok = await client.complete(
          { ...target, url: quick.url },
          { prompt: "hi", max_tokens: 1 },
          400,
        );
        expect(ok.session_id).toBe(3);
      } finally {
        await quick.close();
      }
    } finally {
      for (const t of timers) clearInterval(t);
      await router.close();
    }
  });
});
