import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TavilyEvidenceProvider } from "./evidence.js";

/** A local stand-in for Tavily's search API. */
let server: Server;
let url: string;
const seen: Array<{ auth: string | undefined; body: Record<string, unknown> }> = [];

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
    seen.push({ auth: req.headers.authorization, body });
    if (String(body.query).includes("boom")) {
      res.writeHead(500).end("{}");
      return;
    }
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(
      JSON.stringify({
        results: [
          { title: "Roles", url: "https://docs.example/roles", content: "router, miner" },
          { title: "no url" },
        ],
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/search`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

describe("TavilyEvidenceProvider", () => {
  it("searches with the key and maps results to sources (dropping ones without a URL)", async () => {
    const p = new TavilyEvidenceProvider({ apiKey: "tvly-test", url, maxResults: 3 });
    expect(await p.search("Cortensor roles")).toEqual([
      { title: "Roles", url: "https://docs.example/roles", snippet: "router, miner" },
    ]);
    expect(seen.at(-1)).toMatchObject({
      auth: "Bearer tvly-test",
      body: { query: "Cortensor roles", max_results: 3 },
    });
  });

  it("an upstream failure rejects with the status", async () => {
    const p = new TavilyEvidenceProvider({ apiKey: "k", url });
    await expect(p.search("boom")).rejects.toThrow("HTTP 500");
  });
});
