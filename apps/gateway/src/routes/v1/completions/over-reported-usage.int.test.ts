import { eq, usageEvents } from "@portal/db";
import { countTokens } from "@portal/router/tokens";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routerAnswer, startFakeRouter } from "../../../testing/fake-router.js";
import {
  createTenant,
  createTestGateway,
  postJson,
  readJson,
  type TestGateway,
  type TestTenant,
} from "../../../testing/harness.js";
import { eventData, readSse } from "../../../testing/sse.js";

// A router (or a miner behind one) that reports more tokens than a request could use must not
// make the customer pay for them, fill their tokens-per-minute, or overflow the usage row.

let gw: TestGateway;
beforeAll(async () => {
  gw = await createTestGateway();
});
afterAll(() => gw.close());

const PROMPT = "Say hello to the world";
const absurd = { prompt_tokens: 3_000_000_000, completion_tokens: 5_000_000 };

async function tokensUsed(t: TestTenant): Promise<number | undefined> {
  const res = await gw.app.request("/v1/usage", { headers: { authorization: `Bearer ${t.key}` } });
  const { data } = await readJson(res);
  return data.limits.find((l: { scope: string }) => l.scope === "org_tokens_per_minute")?.used;
}

async function rowOf(requestId: string) {
  await gw.services.usage.flush();
  return gw.dbHandle.db.select().from(usageEvents).where(eq(usageEvents.requestId, requestId));
}

describe("usage a router over-reports", () => {
  it("non-streamed: billed at the prompt's own count and max_tokens, and recorded", async () => {
    const fake = await startFakeRouter((_req, _body, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(routerAnswer({ usage: { ...absurd, total_tokens: 3_005_000_000 } })));
    });
    try {
      const t = await createTenant(gw, { targets: [{ url: fake.url }] });
      const res = await postJson(
        gw,
        "/v1/completions",
        { model: t.alias, prompt: PROMPT, max_tokens: 5 },
        t.key,
      );
      const body = await readJson(res);
      expect(res.status).toBe(200);
      const prompt = countTokens(PROMPT);
      expect(body.data.usage).toMatchObject({
        prompt_tokens: prompt,
        completion_tokens: 5,
        total_tokens: prompt + 5,
      });
      const rows = await rowOf(body.request_id);
      expect(rows).toHaveLength(1); // not dropped for overflowing the integer column
      expect(rows[0]).toMatchObject({ promptTokens: prompt, completionTokens: 5 });
      expect(await tokensUsed(t)).toBe(prompt + 5);
    } finally {
      await fake.close();
    }
  });

  it("streamed: the final usage is bounded the same way", async () => {
    const fake = await startFakeRouter((_req, _body, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      const base = { id: "t1", object: "text_completion", created: 1, model: "demo" };
      const chunk = (fields: Record<string, unknown>) =>
        `data: ${JSON.stringify({ ...base, ...fields })}\n\n`;
      res.write(chunk({ choices: [{ index: 0, text: "hi", finish_reason: null }] }));
      res.write(
        chunk({
          choices: [{ index: 0, text: "", finish_reason: "stop" }],
          usage: { ...absurd, total_tokens: 3_005_000_000 },
        }),
      );
      res.end("data: [DONE]\n\n");
    });
    try {
      const t = await createTenant(gw, { targets: [{ url: fake.url }] });
      const res = await postJson(
        gw,
        "/v1/completions",
        { model: t.alias, prompt: PROMPT, max_tokens: 7, stream: true },
        t.key,
      );
      const events = eventData(await readSse(res)).filter((d) => d !== "[DONE]");
      const last = JSON.parse(events.at(-1) ?? "{}");
      const prompt = countTokens(PROMPT);
      expect(last.data.usage).toMatchObject({ prompt_tokens: prompt, completion_tokens: 7 });
      const rows = await rowOf(last.request_id);
      expect(rows[0]).toMatchObject({ promptTokens: prompt, completionTokens: 7 });
    } finally {
      await fake.close();
    }
  });

  it("a router reporting fewer tokens than the bound is taken at its word", async () => {
    const fake = await startFakeRouter((_req, _body, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(routerAnswer()));
    });
    try {
      const t = await createTenant(gw, { targets: [{ url: fake.url }] });
      const res = await postJson(
        gw,
        "/v1/completions",
        { model: t.alias, prompt: PROMPT, max_tokens: 5 },
        t.key,
      );
      expect((await readJson(res)).data.usage).toMatchObject({
        prompt_tokens: 3,
        completion_tokens: 1,
      });
    } finally {
      await fake.close();
    }
  });
});
