import { describe, expect, it } from "vitest";
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
});
