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

/** A loopback server whose /slow answers after `slowMs`; everything else at once. */
async function startServer(slowMs: number): Promise<{ server: Server; port: number }> {
  const s = createServer((req, res) => {
    if (req.url === "/slow") {
      setTimeout(() => res.end("slow done"), slowMs);
      return;
    }
    res.end("fast");
  });
  s.keepAliveTimeout = 60_000; // long, so only the drain can close idle sockets in time
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  return { server: s, port: (s.address() as AddressInfo).port };
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
    const started = await startServer(300);
    server = started.server;
    const { Agent } = await import("node:http");
    const agent = new Agent({ keepAlive: true });
    try {
      // An idle keep-alive socket, opened before the drain.
      expect(await get(started.port, "/fast", agent)).toEqual({ status: 200, body: "fast" });
      const slow = get(started.port, "/slow");
      await new Promise((r) => setTimeout(r, 50)); // the slow request is in flight

      let drained = false;
      const drain = drainHttpServer(server, { delayMs: 0, sweepIntervalMs: 20 }).then(() => {
        drained = true;
      });
      await new Promise((r) => setTimeout(r, 20));
      await expect(get(started.port, "/fast")).rejects.toMatchObject({ code: "ECONNREFUSED" });
      expect(drained).toBe(false);

      expect(await slow).toEqual({ status: 200, body: "slow done" });
      await drain;
      expect(drained).toBe(true);
    } finally {
      agent.destroy();
    }
  });

  it("keeps serving new connections during the delay before closing", async () => {
    const started = await startServer(0);
    server = started.server;
    const drain = drainHttpServer(server, { delayMs: 200 });
    expect(await get(started.port, "/fast")).toEqual({ status: 200, body: "fast" });
    await drain;
    await expect(get(started.port, "/fast")).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });
});
