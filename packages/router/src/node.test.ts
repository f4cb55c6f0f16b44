import pino from "pino";
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { MinerRejectedError, startMiner } from "./miner/index.js";
import { isLoopbackHost, RouterStartupError, startRouterNode } from "./node.js";
import { AUTH, waitFor } from "./testing/harness.js";

const silent = pino({ level: "silent" });

describe("startRouterNode", () => {
  it("refuses the dev API key (and dev miner token) on a non-loopback bind", async () => {
    await expect(startRouterNode({ host: "0.0.0.0", port: 0 })).rejects.toThrow(RouterStartupError);
    await expect(startRouterNode({ host: "0.0.0.0", port: 0 })).rejects.toThrow(
      /default-dev-token/,
    );
    await expect(
      startRouterNode({ host: "0.0.0.0", port: 0, apiKey: "a-real-key-123" }),
    ).rejects.toThrow(/default-miner-token/);
  });

  it("classifies loopback hosts", () => {
    expect(["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"].map(isLoopbackHost)).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(["0.0.0.0", "10.0.0.5", "::", "example.com"].map(isLoopbackHost)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });

  it("uses a custom API key, and rejects a bad config", async () => {
    const node = await startRouterNode({ port: 0, apiKey: "custom-key-42", logger: silent });
    try {
      expect(node.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(node.wsUrl).toBe(`${node.url.replace("http", "ws")}/ws/miners`);
      expect((await fetch(`${node.url}/api/v1/info`, { headers: AUTH })).status).toBe(401);
      const ok = await fetch(`${node.url}/api/v1/info`, {
        headers: { Authorization: "Bearer custom-key-42" },
      });
      expect(ok.status).toBe(200);
    } finally {
      await node.close();
    }
    await expect(
      startRouterNode({ port: 0, config: { sessions: [{ id: 1, model: "", mode: "ephemeral" }] } }),
    ).rejects.toThrow(/sessions\.0\.model/);
  });

  it("rejects miners with a bad token and WebSocket upgrades on other paths", async () => {
    const node = await startRouterNode({ port: 0, logger: silent });
    try {
      await expect(startMiner({ routerWsUrl: node.wsUrl, token: "wrong" })).rejects.toThrow(
        MinerRejectedError,
      );
      const status = await new Promise<number>((resolve) => {
        const ws = new WebSocket(node.wsUrl.replace("/ws/miners", "/ws/other"), {
          headers: { Authorization: "Bearer default-miner-token" },
        });
        ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
        ws.on("error", () => {});
      });
      expect(status).toBe(404);
      // The miner token can also be given as a query parameter.
      const viaQuery = await new Promise<boolean>((resolve) => {
        const ws = new WebSocket(`${node.wsUrl}?token=default-miner-token`);
        ws.on("open", () => {
          ws.close();
          resolve(true);
        });
        ws.on("error", () => resolve(false));
      });
      expect(viaQuery).toBe(true);
      expect(node.core.miners.list()).toHaveLength(0);
    } finally {
      await node.close();
    }
  });

  it("a miner reconnects with backoff when its router restarts on the same port", async () => {
    const first = await startRouterNode({ port: 0, logger: silent });
    const port = first.port;
    const miner = await startMiner({
      routerWsUrl: first.wsUrl,
      id: "phoenix",
      demo: { tokenDelayMs: 0 },
      reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
    });
    await first.close();
    const second = await startRouterNode({ port, logger: silent });
    try {
      await waitFor(() => second.core.miners.get("phoenix") !== undefined, 5000);
      const res = await fetch(`${second.url}/api/v1/completions/0`, {
        method: "POST",
        headers: AUTH,
        body: JSON.stringify({ prompt: "back again" }),
      });
      expect(res.status).toBe(200);
      expect(
        ((await res.json()) as { miners: Array<{ miner_id: string }> }).miners[0]?.miner_id,
      ).toBe("phoenix");
    } finally {
      await miner.close();
      await second.close();
    }
  });
});
