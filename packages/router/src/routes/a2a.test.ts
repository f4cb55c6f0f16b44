import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { startTestRouter, type TestRouter } from "../testing/harness.js";

let t: TestRouter | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** Required fields of a v0.3 AgentCard (a2a types.ts @ v0.3.0). */
const V03Card = z.object({
  protocolVersion: z.string(),
  name: z.string().min(1),
  description: z.string().min(1),
  url: z.url(),
  version: z.string(),
  capabilities: z.object({}).loose(),
  defaultInputModes: z.array(z.string()).min(1),
  defaultOutputModes: z.array(z.string()).min(1),
  skills: z
    .array(
      z.object({
        id: z.string(),
        name: z.string(),
        description: z.string(),
        tags: z.array(z.string()),
      }),
    )
    .min(1),
});
/** Required fields of a v1.0 AgentCard (a2a.proto @ v1.0.0). */
const V10Card = z.object({
  name: z.string(),
  description: z.string(),
  version: z.string(),
  capabilities: z.object({}).loose(),
  defaultInputModes: z.array(z.string()),
  defaultOutputModes: z.array(z.string()),
  skills: z.array(z.object({ id: z.string() }).loose()),
  supportedInterfaces: z
    .array(
      z.object({
        url: z.url(),
        protocolBinding: z.enum(["JSONRPC", "GRPC", "HTTP+JSON"]),
        protocolVersion: z.string(),
      }),
    )
    .min(1),
});

describe("A2A discovery", () => {
  it("serves one card, valid for v0.3 and v1.0 readers, at all three paths without a key", async () => {
    t = await startTestRouter({}, 0);
    const bodies: string[] = [];
    for (const path of [
      "/.well-known/agent.json",
      "/.well-known/agent-card.json",
      "/api/v1/a2a/agent.json",
    ]) {
      const res = await fetch(`${t.node.url}${path}`, { headers: { "A2A-Version": "1.0" } });
      expect(res.status, path).toBe(200);
      expect(res.headers.get("cache-control")).toContain("max-age");
      const etag = res.headers.get("etag");
      expect(etag).toMatch(/^"[0-9a-f]+"$/);
      const text = await res.text();
      bodies.push(text);
      const card = JSON.parse(text) as unknown;
      V03Card.parse(card);
      V10Card.parse(card);
      const again = await fetch(`${t.node.url}${path}`, {
        headers: { "If-None-Match": etag ?? "" },
      });
      expect(again.status).toBe(304);
    }
    expect(new Set(bodies).size).toBe(1);
    const card = V03Card.parse(JSON.parse(bodies[0] ?? "{}"));
    expect(card.url).toBe(`${t.node.url}/api/v1/a2a`);
    expect(card.skills.map((s) => s.id)).toEqual([
      "completion",
      "delegate",
      "validate",
      "factcheck",
    ]);
  });

  it("the card names the x402 extension when x402 is on, and the configured public URL", async () => {
    t = await startTestRouter(
      {
        config: {
          sessions: [{ id: 0, model: "demo", mode: "ephemeral" }],
          a2a: { public_url: "https://router.example", name: "Example Router" },
          x402: { enabled: true, pay_to: "0x209693Bc6afc0C5328bA36FaF03C514EF312287C" },
        },
      },
      0,
    );
    const card = (await (await fetch(`${t.node.url}/.well-known/agent-card.json`)).json()) as {
      url: string;
      name: string;
      capabilities: { extensions: Array<{ uri: string }> };
    };
    expect(card).toMatchObject({
      url: "https://router.example/api/v1/a2a",
      name: "Example Router",
    });
    expect(card.capabilities.extensions[0]?.uri).toContain("a2a-x402");
  });

  it("/api/v1/a2a/discovery lists the card, skills and route families; disabled is 404", async () => {
    t = await startTestRouter({}, 0);
    const d = (await (await fetch(`${t.node.url}/api/v1/a2a/discovery`)).json()) as {
      agents: unknown[];
      skills: Array<{ id: string; route: string }>;
      routes: Record<string, string[]>;
    };
    expect(d.agents).toHaveLength(1);
    expect(d.skills.find((s) => s.id === "validate")?.route).toContain("/api/v3/validate");
    expect(d.routes.x402).toEqual([]);
    expect(d.routes.factcheck).toContain("/api/v1/fact-check");
    await t.close();
    t = await startTestRouter(
      {
        config: {
          sessions: [{ id: 0, model: "demo", mode: "ephemeral" }],
          a2a: { enabled: false },
        },
      },
      0,
    );
    expect((await fetch(`${t.node.url}/.well-known/agent.json`)).status).toBe(404);
  });
});
