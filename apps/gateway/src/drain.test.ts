import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { drainHttpServer } from "./drain.js";

let server: Server | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

/**
 * A loopback server whose /slow answers only when the test calls `finishSlow()` (so "in flight"
 * is a fact, not a guess about timing); everything else answers at once.
 */
async function startServer(): Promise<{
  server: Server;
  port: number;
  slowArrived: Promise<void>;
  finishSlow: () => void;
}> {
  let arrived = () => {};
  const slowArrived = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  let finish = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const s = createServer((req, res) => {
    if (req.url === "/slow") {
      arrived();
      void finished.then(() => res.end("slow done"));
      return;
    }
    res.end("fast");
  });
  s.keepAliveTimeout = 60_000; // long, so only the drain can close idle sockets in time
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  return {
    server: s,
    port: (s.address() as AddressInfo).port,
    slowArrived,
    finishSlow: finish,
  };
}

function get(port: number, path: string, agent?: import("node:http").Agent) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    // No agent = a fresh connection per request, so "refused" really means the listener is gone.
    const req = request({ host: "127.0.0.1", port, path, agent: agent ?? false }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => {
        body += d.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("drainHttpServer", () => {
  it("lets an in-flight request finish, refuses new connections, and closes idle keep-alive sockets", async () => {
    const started = await startServer();
    server = started.server;
    const { Agent } = await import("node:http");
    const agent = new Agent({ keepAlive: true });
    try {
      // An idle keep-alive socket, opened before the drain.
      expect(await get(started.port, "/fast", agent)).toEqual({ status: 200, body: "fast" });
      const slow = get(started.port, "/slow");
      await started.slowArrived; // the slow request is in flight

      let drained = false;
      // With no delay the listener closes synchronously, inside this call.
      const drain = drainHttpServer(server, { delayMs: 0, sweepIntervalMs: 20 }).then(() => {
        drained = true;
      });
      await expect(get(started.port, "/fast")).rejects.toMatchObject({ code: "ECONNREFUSED" });
      expect(drained).toBe(false);

      started.finishSlow();
      expect(await slow).toEqual({ status: 200, body: "slow done" });
      await drain;
      expect(drained).toBe(true);
    } finally {
      agent.destroy();
    }
  });

  it("keeps serving new connections during the delay before closing", async () => {
    const started = await startServer();
    server = started.server;
    // The delay is generous so a slow machine still connects inside it; nothing asserts time.
    const drain = drainHttpServer(server, { delayMs: 1_000 });
    expect(await get(started.port, "/fast")).toEqual({ status: 200, body: "fast" });
    await drain;
    await expect(get(started.port, "/fast")).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });
});
