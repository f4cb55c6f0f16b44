import Anthropic from "@anthropic-ai/sdk";
import { eq, usageEvents } from "@portal/db";
import { type RouterNodeHandle, startRouterNode } from "@portal/router";
import { type MinerHandle, startMiner } from "@portal/router/miner";
import OpenAI from "openai";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTenant,
  createTestGateway,
  fundOrg,
  type TestGateway,
  type TestTenant,
} from "../../../testing/harness.js";
import { listen } from "../../../testing/sse.js";

// The official OpenAI and Anthropic SDKs against the real gateway over HTTP, a real router and
// a demo miner: what customers' code actually does.

let gw: TestGateway;
let router: RouterNodeHandle;
let miner: MinerHandle;
let server: { url: string; close(): Promise<void> };
let tenant: TestTenant;

beforeAll(async () => {
  gw = await createTestGateway();
  router = await startRouterNode({
    port: 0,
    config: {
      sessions: [{ id: 0, model: "demo", mode: "ephemeral", redundancy: 1 }],
      default_session_id: 0,
    },
    logger: pino({ level: "silent" }),
  });
  miner = await startMiner({
    routerWsUrl: router.wsUrl,
    id: "m-sdk",
    engine: "demo",
    models: ["demo"],
    demo: { tokenDelayMs: 0 },
    logger: pino({ level: "silent" }),
  });
  tenant = await createTenant(gw, {
    targets: [{ url: router.url }],
    model: { promptTemplate: "<|im_start|>{prompt}" },
  });
  server = await listen(gw);
});

afterAll(async () => {
  await server?.close();
  await miner?.close();
  await router?.close();
  await gw?.close();
});

async function usageOf(requestId: string) {
  await gw.services.usage.flush();
  return gw.dbHandle.db.select().from(usageEvents).where(eq(usageEvents.requestId, requestId));
}

function openai(key = tenant.key) {
  return new OpenAI({ apiKey: key, baseURL: `${server.url}/v1`, maxRetries: 0 });
}
function anthropic(key = tenant.key) {
  return new Anthropic({ apiKey: key, baseURL: server.url, maxRetries: 0 });
}

describe("openai SDK against the gateway", () => {
  it("completes a chat and records usage on the chat route", async () => {
    const { data, response } = await openai()
      .chat.completions.create({
        model: tenant.alias,
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "Say hello." },
        ],
        max_tokens: 16,
      })
      .withResponse();
    expect(data.object).toBe("chat.completion");
    expect(data.model).toBe(tenant.alias);
    expect(data.choices[0]?.message.role).toBe("assistant");
    expect(data.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(data.usage?.completion_tokens).toBeGreaterThan(0);
    const requestId = response.headers.get("x-request-id") ?? "";
    const rows = await usageOf(requestId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      route: "/v1/chat/completions",
      status: "ok",
      stream: false,
      completionTokens: data.usage?.completion_tokens,
      promptTokens: data.usage?.prompt_tokens,
    });
  });

  it("streams chat.completion.chunk deltas and the usage chunk when asked", async () => {
    const stream = await openai().chat.completions.create({
      model: tenant.alias,
      messages: [{ role: "user", content: "Stream please." }],
      max_tokens: 20,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    let finish: string | null | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      expect(chunk.object).toBe("chat.completion.chunk");
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(chunks).toBeGreaterThan(3);
    expect(text.length).toBeGreaterThan(0);
    expect(finish).toMatch(/^(stop|length)$/);
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    expect(usage?.total_tokens).toBe((usage?.prompt_tokens ?? 0) + (usage?.completion_tokens ?? 0));
  });

  it("lists the caller's models", async () => {
    const ids: string[] = [];
    for await (const m of openai().models.list()) ids.push(m.id);
    expect(ids).toContain(tenant.alias);
  });

  it("retrieves one model, and raises NotFoundError for one the key may not use", async () => {
    const model = await openai().models.retrieve(tenant.alias);
    expect(model).toMatchObject({ id: tenant.alias, object: "model", owned_by: "portal" });
    expect(model.created).toBeGreaterThan(1_600_000_000);
    await expect(openai().models.retrieve("no-such-model")).rejects.toBeInstanceOf(
      OpenAI.NotFoundError,
    );
  });

  it("raises the right error classes: bad key, unknown model, bad request, rate limit", async () => {
    await expect(
      openai("cx_live_0000000000000000000000000000000000000000").chat.completions.create({
        model: tenant.alias,
        messages: [{ role: "user", content: "x" }],
      }),
    ).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const notFound = await openai()
      .chat.completions.create({
        model: "no-such-model",
        messages: [{ role: "user", content: "x" }],
      })
      .catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(OpenAI.NotFoundError);
    expect((notFound as InstanceType<typeof OpenAI.NotFoundError>).code).toBe("model_not_found");
    await expect(
      openai().chat.completions.create({ model: tenant.alias, messages: [] }),
    ).rejects.toBeInstanceOf(OpenAI.BadRequestError);

    const limited = await createTenant(gw, {
      targets: [{ url: router.url }],
      key: { rpmLimit: 1 },
    });
    const client = openai(limited.key);
    await client.chat.completions.create({
      model: limited.alias,
      messages: [{ role: "user", content: "one" }],
      max_tokens: 4,
    });
    const err = await client.chat.completions
      .create({ model: limited.alias, messages: [{ role: "user", content: "two" }], max_tokens: 4 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const rate = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rate.code).toBe("rate_limit_exceeded");
    expect(Number(rate.headers?.get("retry-after"))).toBeGreaterThan(0);
  });

  it("names the caller's own fields in errors, takes top_p 0, and fits an unset max_tokens", async () => {
    const small = await createTenant(gw, {
      targets: [{ url: router.url }],
      model: { contextLength: 64, maxMaxTokens: 32 },
    });
    const tooMany = await openai(small.key)
      .chat.completions.create({
        model: small.alias,
        messages: [{ role: "user", content: "x" }],
        max_completion_tokens: 5_000,
      })
      .catch((e: unknown) => e);
    expect(tooMany).toBeInstanceOf(OpenAI.BadRequestError);
    expect((tooMany as InstanceType<typeof OpenAI.BadRequestError>).param).toBe(
      "max_completion_tokens",
    );
    const long = "word ".repeat(200);
    const overflow = await openai(small.key)
      .chat.completions.create({
        model: small.alias,
        messages: [{ role: "user", content: long }],
        max_tokens: 8,
      })
      .catch((e: unknown) => e);
    expect((overflow as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("messages");
    // No max_tokens: the model's default (32 here) does not fit after a 40-token prompt, so the
    // answer gets what the context has left instead of a refusal.
    const fits = await openai(small.key).chat.completions.create({
      model: small.alias,
      messages: [{ role: "user", content: "word ".repeat(40) }],
      top_p: 0,
    });
    expect(fits.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(fits.usage?.completion_tokens).toBeLessThanOrEqual(
      64 - (fits.usage?.prompt_tokens ?? 0),
    );
  });

  it("an empty prepaid balance is insufficient_quota, which the SDK must not retry", async () => {
    const broke = await createTenant(gw, { targets: [{ url: router.url }], plan: "prepaid" });
    await fundOrg(gw, broke.orgId, 0n);
    const err = await openai(broke.key)
      .chat.completions.create({ model: broke.alias, messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const quota = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect(quota.code).toBe("insufficient_quota");
    expect(quota.headers?.get("x-should-retry")).toBe("false");
  });
});

describe("@anthropic-ai/sdk against the gateway", () => {
  it("creates a message", async () => {
    const msg = await anthropic().messages.create({
      model: tenant.alias,
      max_tokens: 16,
      system: "Be brief.",
      messages: [{ role: "user", content: "Say hello." }],
    });
    expect(msg.type).toBe("message");
    expect(msg.role).toBe("assistant");
    expect(msg.model).toBe(tenant.alias);
    const block = msg.content[0];
    expect(block?.type).toBe("text");
    expect(block?.type === "text" && block.text.length > 0).toBe(true);
    expect(msg.usage.output_tokens).toBeGreaterThan(0);
    expect(msg.stop_reason).toMatch(/^(end_turn|max_tokens)$/);
    // The SDK reads a success's request id from `request-id` too.
    const { data, request_id } = await anthropic()
      .messages.create({
        model: tenant.alias,
        max_tokens: 8,
        messages: [{ role: "user", content: "Again." }],
      })
      .withResponse();
    expect(data.type).toBe("message");
    expect(request_id).toMatch(/^req_/);
  });

  it("streams message events and the final message carries usage", async () => {
    const stream = anthropic().messages.stream({
      model: tenant.alias,
      max_tokens: 20,
      messages: [{ role: "user", content: "Stream please." }],
    });
    let text = "";
    stream.on("text", (delta) => {
      text += delta;
    });
    let startInput: number | undefined;
    stream.on("streamEvent", (event) => {
      if (event.type === "message_start") startInput = event.message.usage.input_tokens;
    });
    const final = await stream.finalMessage();
    expect(text.length).toBeGreaterThan(0);
    // message_start already carries the prompt's count (older SDKs read it from there).
    expect(startInput).toBe(final.usage.input_tokens);
    const block = final.content[0];
    expect(block?.type === "text" ? block.text : null).toBe(text);
    expect(final.usage.output_tokens).toBeGreaterThan(0);
    expect(final.usage.input_tokens).toBeGreaterThan(0);
  });

  it("counts a message's input tokens as the model sees them, spending nothing", async () => {
    const params = {
      model: tenant.alias,
      system: "Be brief.",
      messages: [{ role: "user" as const, content: "How many tokens is this?" }],
    };
    const counted = await anthropic().messages.countTokens(params);
    // The same count the answer reports as its input (the template included).
    const answered = await anthropic().messages.create({ ...params, max_tokens: 4 });
    expect(counted.input_tokens).toBe(answered.usage.input_tokens);
    const missing = await anthropic()
      .messages.countTokens({ ...params, model: "no-such-model" })
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(Anthropic.NotFoundError);
    const empty = await anthropic()
      .messages.countTokens({ ...params, messages: [] })
      .catch((e: unknown) => e);
    expect(empty).toBeInstanceOf(Anthropic.BadRequestError);
    // top_p 0, which the vendors allow, is taken (as greedy decoding) on the messages route.
    const greedy = await fetch(`${server.url}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": tenant.key, "content-type": "application/json" },
      body: JSON.stringify({ ...params, max_tokens: 4, top_p: 0 }),
    });
    expect(greedy.status).toBe(200);
  });

  it("lists, pages through and retrieves the caller's models in Anthropic's shape", async () => {
    // A second public alias, so there are at least two models to page through.
    const other = await createTenant(gw, { targets: [{ url: router.url }] });
    const listed: Anthropic.ModelInfo[] = [];
    for await (const m of anthropic().models.list()) listed.push(m);
    const ids = listed.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining([tenant.alias, other.alias]));
    expect(new Set(ids).size).toBe(ids.length);
    const mine = listed.find((m) => m.id === tenant.alias);
    expect(mine).toMatchObject({ type: "model", id: tenant.alias, display_name: tenant.alias });
    expect(new Date(mine?.created_at ?? "").getTime()).toBeGreaterThan(Date.parse("2020-01-01"));

    // Cursor paging: one model per page, the next page continues after the last id.
    const first = await anthropic().models.list({ limit: 1 });
    expect(first.data).toHaveLength(1);
    expect(first.has_more).toBe(true);
    expect(first.first_id).toBe(first.data[0]?.id);
    const second = await first.getNextPage();
    expect(second.data).toHaveLength(1);
    expect((second.data[0]?.id ?? "") > (first.data[0]?.id ?? "")).toBe(true);

    const one = await anthropic().models.retrieve(tenant.alias);
    expect(one).toMatchObject({ type: "model", id: tenant.alias, max_tokens: expect.any(Number) });
    await expect(anthropic().models.retrieve("no-such-model")).rejects.toBeInstanceOf(
      Anthropic.NotFoundError,
    );
    await expect(
      anthropic("cx_live_0000000000000000000000000000000000000000").models.list(),
    ).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it("raises the right error classes: bad key, unknown model, rate limit", async () => {
    await expect(
      anthropic("cx_live_0000000000000000000000000000000000000000").messages.create({
        model: tenant.alias,
        max_tokens: 8,
        messages: [{ role: "user", content: "x" }],
      }),
    ).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    const nf = await anthropic()
      .messages.create({ model: "nope", max_tokens: 8, messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(nf).toBeInstanceOf(Anthropic.NotFoundError);
    expect((nf as InstanceType<typeof Anthropic.NotFoundError>).requestID).toMatch(/^req_/);
    await expect(
      anthropic().messages.create({
        model: tenant.alias,
        max_tokens: 8,
        messages: [],
      }),
    ).rejects.toBeInstanceOf(Anthropic.BadRequestError);

    const limited = await createTenant(gw, {
      targets: [{ url: router.url }],
      key: { rpmLimit: 1 },
    });
    const client = anthropic(limited.key);
    await client.messages.create({
      model: limited.alias,
      max_tokens: 4,
      messages: [{ role: "user", content: "one" }],
    });
    await expect(
      client.messages.create({
        model: limited.alias,
        max_tokens: 4,
        messages: [{ role: "user", content: "two" }],
      }),
    ).rejects.toBeInstanceOf(Anthropic.RateLimitError);
  });
});
