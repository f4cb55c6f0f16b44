import { eq, requestLogs, usageEvents } from "@portal/db";
import { type RouterNodeHandle, startRouterNode } from "@portal/router";
import { type MinerHandle, startMiner } from "@portal/router/miner";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startFakeRouter } from "../../../testing/fake-router.js";
import {
  createTenant,
  createTestGateway,
  fundOrg,
  type Json,
  postJson,
  readJson,
  type TestGateway,
  type TestTenant,
} from "../../../testing/harness.js";
import { eventData, listen, readSse } from "../../../testing/sse.js";

let gw: TestGateway;
let router: RouterNodeHandle;
const miners: MinerHandle[] = [];
let tenant: TestTenant;

beforeAll(async () => {
  gw = await createTestGateway({ streamKeepAliveMs: 100 });
  router = await startRouterNode({
    port: 0,
    config: {
      sessions: [{ id: 0, model: "demo", mode: "ephemeral", redundancy: 1 }],
      default_session_id: 0,
    },
    logger: pino({ level: "silent" }),
  });
  miners.push(
    await startMiner({
      routerWsUrl: router.wsUrl,
      id: "m-stream",
      engine: "demo",
      models: ["demo"],
      demo: { tokenDelayMs: 1 },
      logger: pino({ level: "silent" }),
    }),
  );
  tenant = await createTenant(gw, { targets: [{ url: router.url }] });
});

afterAll(async () => {
  await Promise.all(miners.map((m) => m.close()));
  await router?.close();
  await gw?.close();
});

async function usageRow(requestId: string) {
  await gw.services.usage.flush();
  const rows = await gw.dbHandle.db
    .select()
    .from(usageEvents)
    .where(eq(usageEvents.requestId, requestId));
  return rows;
}

/** A fake router that streams `chunks` text deltas, then does `end`. */
async function streamingFake(
  chunks: string[],
  end: "usage" | "error_event" | "hang_up",
  delayMs = 0,
  firstChunkAfterMs = 0,
) {
  const closed: boolean[] = [];
  const fake = await startFakeRouter((req, _body, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.flushHeaders(); // as a real router does: headers at once, tokens when they come
    const base = { id: "t1", object: "text_completion", created: 1, model: "demo" };
    let i = 0;
    req.socket.on("close", () => closed.push(true));
    const next = () => {
      if (res.destroyed) return;
      if (i < chunks.length) {
        const text = chunks[i++] ?? "";
        res.write(
          `data: ${JSON.stringify({ ...base, choices: [{ index: 0, text, finish_reason: null }] })}\n\n`,
        );
        setTimeout(next, delayMs);
        return;
      }
      if (end === "usage") {
        res.write(
          `data: ${JSON.stringify({
            ...base,
            choices: [{ index: 0, text: "", finish_reason: "stop" }],
            usage: {
              prompt_tokens: 5,
              completion_tokens: chunks.length,
              total_tokens: 5 + chunks.length,
            },
          })}\n\ndata: [DONE]\n\n`,
        );
        res.end();
      } else if (end === "error_event") {
        res.write(
          `data: ${JSON.stringify({ error: { code: "task_failed", message: "miner 10.0.0.7 crashed" } })}\n\n`,
        );
        res.end();
      } else {
        res.destroy();
      }
    };
    setTimeout(next, firstChunkAfterMs);
  });
  return { ...fake, closed };
}

describe("POST /v1/completions with stream: true", () => {
  it("streams envelope chunks in order, then usage and cost, then [DONE]; the text matches the non-streamed answer", async () => {
    const body = { model: tenant.alias, prompt: "Stream me a sentence.", max_tokens: 24 };
    const plain = await readJson(await postJson(gw, "/v1/completions", body, tenant.key));
    expect(plain.status).toBe("ok");

    const res = await postJson(gw, "/v1/completions", { ...body, stream: true }, tenant.key);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    expect(res.headers.get("x-ratelimit-limit")).not.toBeNull();
    const data = eventData(await readSse(res));
    expect(data.at(-1)).toBe("[DONE]");
    const envelopes: Json[] = data.slice(0, -1).map((d) => JSON.parse(d));
    const requestId = envelopes[0].request_id;
    for (const e of envelopes) {
      expect(e).toMatchObject({
        request_id: requestId,
        status: "ok",
        model: tenant.alias,
        router_pool: tenant.poolName,
        error: null,
      });
      expect(e.data.object).toBe("text_completion");
      expect(e.data.id).toBe(`cmpl_${requestId.slice(4)}`);
    }
    const deltas = envelopes.slice(0, -1).map((e) => e.data.choices[0].text);
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join("")).toBe(plain.data.choices[0].text);
    const last = envelopes.at(-1);
    expect(last.data.choices[0]).toEqual({ index: 0, text: "", finish_reason: expect.any(String) });
    expect(last.data.usage).toEqual({
      prompt_tokens: plain.data.usage.prompt_tokens,
      completion_tokens: plain.data.usage.completion_tokens,
      total_tokens: plain.data.usage.total_tokens,
      cost: plain.data.usage.cost,
    });
    expect(last.data.timing.total_ms).toBeGreaterThanOrEqual(last.data.timing.upstream_ms);

    const rows = await usageRow(requestId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      status: "ok",
      stream: true,
      route: "/v1/completions",
      promptTokens: plain.data.usage.prompt_tokens,
      completionTokens: plain.data.usage.completion_tokens,
    });
    expect(rows[0]?.costMicros).toBeGreaterThan(0n);
  });

  it("a router that turns streaming off (private session) is relayed as one chunk, billed as usual", async () => {
    // Private sessions keep prompts and results off the router's task views and answer in one
    // piece even when asked to stream (seed 002); the client still gets the stream it asked for.
    const privateRouter = await startRouterNode({
      port: 0,
      config: {
        sessions: [{ id: 7, model: "demo", mode: "ephemeral", redundancy: 1, private: true }],
        default_session_id: 7,
      },
      logger: pino({ level: "silent" }),
    });
    const miner = await startMiner({
      routerWsUrl: privateRouter.wsUrl,
      id: "m-private",
      engine: "demo",
      models: ["demo"],
      demo: { tokenDelayMs: 1 },
      logger: pino({ level: "silent" }),
    });
    try {
      const t = await createTenant(gw, {
        plan: "prepaid",
        targets: [{ url: privateRouter.url, sessionId: 7 }],
      });
      await fundOrg(gw, t.orgId, 1_000_000n);
      const body = { model: t.alias, prompt: "Keep this private.", max_tokens: 12 };
      const plain = await readJson(await postJson(gw, "/v1/completions", body, t.key));
      expect(plain.status).toBe("ok");

      const res = await postJson(gw, "/v1/completions", { ...body, stream: true }, t.key);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/event-stream");
      const data = eventData(await readSse(res));
      expect(data.at(-1)).toBe("[DONE]");
      const envelopes: Json[] = data.slice(0, -1).map((d) => JSON.parse(d));
      expect(envelopes.every((e) => e.status === "ok" && e.error === null)).toBe(true);
      const deltas = envelopes.slice(0, -1).map((e) => e.data.choices[0].text);
      expect(deltas).toEqual([plain.data.choices[0].text]);
      const last = envelopes.at(-1);
      expect(last.data.usage).toEqual(plain.data.usage);

      const rows = await usageRow(last.request_id);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        status: "ok",
        stream: true,
        promptTokens: plain.data.usage.prompt_tokens,
        completionTokens: plain.data.usage.completion_tokens,
      });
      // Prepaid: the reservation settled into a real charge, the same as the plain request's.
      expect(rows[0]?.chargeMicros).toBeGreaterThan(0n);
      expect(rows[0]?.chargeMicros).toBe(rows[0]?.costMicros);
    } finally {
      await miner.close();
      await privateRouter.close();
    }
  });

  it("refuses before streaming with an ordinary envelope (unknown model, Idempotency-Key)", async () => {
    const unknown = await postJson(
      gw,
      "/v1/completions",
      { model: "no-such-model", prompt: "x", stream: true },
      tenant.key,
    );
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("content-type")).toContain("application/json");
    expect((await readJson(unknown)).error.code).toBe("model_not_found");

    const withKey = await gw.app.request("/v1/completions", {
      method: "POST",
      headers: {
        authorization: `Bearer ${tenant.key}`,
        "content-type": "application/json",
        "idempotency-key": "abc",
      },
      body: JSON.stringify({ model: tenant.alias, prompt: "x", stream: true }),
    });
    expect(withKey.status).toBe(400);
    const err = await readJson(withKey);
    expect(err.error).toMatchObject({
      code: "invalid_request",
      details: { field: "Idempotency-Key" },
    });
  });

  it("a router failing mid-stream gives a failed envelope event, no charge, and a failed usage row", async () => {
    const fake = await streamingFake(["Hello", " world"], "error_event");
    try {
      const t = await createTenant(gw, { targets: [{ url: fake.url }] });
      const res = await postJson(
        gw,
        "/v1/completions",
        { model: t.alias, prompt: "hi", stream: true },
        t.key,
      );
      expect(res.status).toBe(200);
      const data = eventData(await readSse(res));
      expect(data.at(-1)).toBe("[DONE]");
      const envelopes: Json[] = data.slice(0, -1).map((d) => JSON.parse(d));
      expect(envelopes.slice(0, 2).map((e) => e.data.choices[0].text)).toEqual(["Hello", " world"]);
      const failed = envelopes.at(-1);
      expect(failed).toMatchObject({
        status: "failed",
        data: null,
        error: { code: "upstream_error" },
      });
      // Router internals (miner addresses) never reach the customer.
      expect(JSON.stringify(failed)).not.toContain("10.0.0.7");
      const rows = await usageRow(failed.request_id);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        status: "failed",
        errorCode: "upstream_error",
        stream: true,
      });
      expect(rows[0]?.costMicros).toBe(0n);
      // The request log is written when the stream is over: it names the failure the 200
      // status cannot, and its latency covers the whole stream.
      await vi.waitFor(async () => {
        await gw.services.requestLogs.flush();
        const [log] = await gw.dbHandle.db
          .select()
          .from(requestLogs)
          .where(eq(requestLogs.requestId, failed.request_id));
        expect(log).toMatchObject({ httpStatus: 200, errorCode: "upstream_error" });
      });
    } finally {
      await fake.close();
    }
  });

  it("metrics observe a stream when it is over: its whole duration, its router time not overhead", async () => {
    // Four chunks 100 ms apart: the stream lasts at least 300 ms after its first byte.
    const fake = await streamingFake(["a", "b", "c", "d"], "usage", 100);
    const histogram = async (h: { get(): Promise<{ values: Array<Record<string, unknown>> }> }) => {
      const { values } = await h.get();
      const of = (name: string) =>
        Number(
          values.find(
            (v) =>
              v.metricName === name &&
              (v.labels as Record<string, string>).route === "/v1/completions",
          )?.value ?? 0,
        );
      return { of };
    };
    try {
      const t = await createTenant(gw, { targets: [{ url: fake.url }] });
      const metrics = gw.services.metrics;
      const before = await histogram(metrics.latency);
      const overBefore = await histogram(metrics.overhead);
      const res = await postJson(
        gw,
        "/v1/completions",
        { model: t.alias, prompt: "hi", stream: true },
        t.key,
      );
      expect(eventData(await readSse(res)).at(-1)).toBe("[DONE]");
      await vi.waitFor(async () => {
        const after = await histogram(metrics.latency);
        expect(after.of("portal_http_request_duration_seconds_count")).toBe(
          before.of("portal_http_request_duration_seconds_count") + 1,
        );
      });
      const after = await histogram(metrics.latency);
      const overAfter = await histogram(metrics.overhead);
      const latency =
        after.of("portal_http_request_duration_seconds_sum") -
        before.of("portal_http_request_duration_seconds_sum");
      const overhead =
        overAfter.of("portal_gateway_overhead_seconds_sum") -
        overBefore.of("portal_gateway_overhead_seconds_sum");
      expect(latency).toBeGreaterThanOrEqual(0.3);
      // The 300 ms of waiting on the router is upstream time, not the gateway's.
      expect(overhead).toBeLessThanOrEqual(latency - 0.3);
    } finally {
      await fake.close();
    }
  });

  it("a router hanging up mid-stream is a failed event too", async () => {
    const fake = await streamingFake(["partial"], "hang_up");
    try {
      const t = await createTenant(gw, { targets: [{ url: fake.url }] });
      const res = await postJson(
        gw,
        "/v1/completions",
        { model: t.alias, prompt: "hi", stream: true },
        t.key,
      );
      const data = eventData(await readSse(res));
      const failed = JSON.parse(data.at(-2) ?? "{}");
      expect(failed.error.code).toBe("upstream_error");
    } finally {
      await fake.close();
    }
  });

  it("a client that disconnects aborts the upstream request and is billed for what was generated", async () => {
    const words = Array.from({ length: 400 }, (_, i) => `w${i} `);
    const fake = await streamingFake(words, "usage", 10);
    const server = await listen(gw);
    try {
      const t = await createTenant(gw, { targets: [{ url: fake.url }] });
      const abort = new AbortController();
      const res = await fetch(`${server.url}/v1/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${t.key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: t.alias, prompt: "hi", stream: true, max_tokens: 500 }),
        signal: abort.signal,
      });
      expect(res.status).toBe(200);
      const requestId = res.headers.get("x-request-id");
      expect(requestId).toMatch(/^req_/);
      const reader = res.body?.getReader();
      let received = "";
      while (received.split("data: ").length < 6) {
        const chunk = await reader?.read();
        if (!chunk || chunk.done) break;
        received += new TextDecoder().decode(chunk.value);
      }
      abort.abort();
      // The upstream connection is closed by the gateway, long before the 400 words (4 s).
      await expect.poll(() => fake.closed.length, { timeout: 3_000 }).toBeGreaterThan(0);
      const rows = await expect
        .poll(async () => (await usageRow(requestId ?? "")).length, { timeout: 5_000 })
        .toBe(1)
        .then(() => usageRow(requestId ?? ""));
      const row = rows[0];
      expect(row?.status).toBe("cancelled");
      expect(row?.stream).toBe(true);
      expect(row?.completionTokens).toBeGreaterThan(0);
      expect(row?.completionTokens).toBeLessThan(400);
      expect(row?.costMicros).toBeGreaterThan(0n);
      // What it was billed for counts against the token windows: a client cannot get its
      // answers outside its tokens per minute by hanging up before the last event.
      await expect
        .poll(async () => {
          const usage = await gw.app.request("/v1/usage", {
            headers: { authorization: `Bearer ${t.key}` },
          });
          const { data } = (await usage.json()) as {
            data: { limits: Array<{ scope: string; used: number }> };
          };
          return data.limits.find((l) => l.scope === "org_tokens_per_minute")?.used;
        })
        .toBe((row?.promptTokens ?? 0) + (row?.completionTokens ?? 0));
    } finally {
      await server.close();
      await fake.close();
    }
  });

  it("sends keep-alive comments while the router is quiet, then the answer", async () => {
    const fake = await streamingFake(["late"], "usage", 0, 450);
    try {
      const t = await createTenant(gw, { targets: [{ url: fake.url }] });
      const res = await postJson(
        gw,
        "/v1/completions",
        { model: t.alias, prompt: "hi", stream: true },
        t.key,
      );
      const items = await readSse(res);
      const firstEvent = items.findIndex((i) => i.kind === "event");
      const comments = items.slice(0, firstEvent).filter((i) => i.kind === "comment");
      expect(comments.length).toBeGreaterThanOrEqual(2);
      expect(comments[0]).toEqual({ kind: "comment", text: "keep-alive" });
      const data = eventData(items);
      expect(JSON.parse(data[0] ?? "{}").data.choices[0].text).toBe("late");
      expect(data.at(-1)).toBe("[DONE]");
    } finally {
      await fake.close();
    }
  });
});
