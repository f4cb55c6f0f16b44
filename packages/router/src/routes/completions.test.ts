import {
  RouterCompletionChunk,
  RouterCompletionResponse,
  RouterErrorBody,
} from "@portal/contracts";
import { afterEach, describe, expect, it } from "vitest";
import { sha256Hex } from "../core/tokens.js";
import { demoWords } from "../miner/engines/demo.js";
import { readSse, startTestRouter, type TestRouter, waitFor } from "../testing/harness.js";

let t: TestRouter | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function json(res: Response): Promise<unknown> {
  return res.json();
}

async function expectError(res: Response, status: number, code: string) {
  const body = await json(res);
  expect(res.status, JSON.stringify(body)).toBe(status);
  const parsed = RouterErrorBody.parse(body);
  expect(parsed.error.code).toBe(code);
  return parsed;
}

const expectedText = (prompt: string, max_tokens: number, extra = {}) =>
  demoWords({ model: "demo", prompt, max_tokens, ...extra })
    .words.map((w) => ` ${w}`)
    .join("");

describe("POST /api/v{1,2,3}/completions — happy paths", () => {
  it("v3 with the session in the path answers a text completion with usage and evidence", async () => {
    t = await startTestRouter({}, 3);
    const res = await t.post("/api/v3/completions/0", {
      prompt: "What is Cortensor?",
      max_tokens: 12,
      temperature: 0.7,
      top_p: 1,
      timeout: 30,
      precommit_timeout: 20,
      client_reference: "req_happy_1",
      stream: false,
    });
    const body = await json(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    const r = RouterCompletionResponse.parse(body);
    const text = expectedText("What is Cortensor?", 12, { temperature: 0.7, top_p: 1 });
    expect(r).toMatchObject({
      object: "text_completion",
      model: "demo",
      session_id: 0,
      task_id: 0,
      client_reference: "req_happy_1",
      choices: [{ index: 0, text, finish_reason: "length" }],
      usage: { prompt_tokens: 5, completion_tokens: 12, total_tokens: 17 },
      consensus: { method: "single", agreement: 1, replicas: 1 },
    });
    expect(r.miners).toHaveLength(1);
    expect(r.miners?.[0]).toMatchObject({ status: "committed", agreed: true });
    expect(r.miners?.[0]?.result_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("v1 takes the session id from the body (number or numeric string)", async () => {
    t = await startTestRouter({}, 1);
    const a = RouterCompletionResponse.parse(
      await json(
        await t.post("/api/v1/completions", { session_id: 0, prompt: "hi", max_tokens: 500 }),
      ),
    );
    expect(a.session_id).toBe(0);
    // The demo's natural length is under 48 words, so a large budget ends with "stop".
    expect(a.choices[0]?.finish_reason).toBe("stop");
    expect(a.choices[0]?.text).toBe(expectedText("hi", 500));
    const b = RouterCompletionResponse.parse(
      await json(
        await t.post("/api/v1/completions", { session_id: "0", prompt: "hi", max_tokens: 500 }),
      ),
    );
    expect(b.task_id).toBe(1);
    expect(b.choices[0]?.text).toBe(a.choices[0]?.text);
  });

  it("uses the configured default session when none is named", async () => {
    t = await startTestRouter({}, 1);
    const res = await t.post("/api/v1/completions", { prompt: "default please" });
    const r = RouterCompletionResponse.parse(await json(res));
    expect(r.session_id).toBe(0);
    expect(r.usage.completion_tokens).toBeGreaterThan(0);
  });

  it("v2 and v3 store the prompt in the blob store; the task names the URN", async () => {
    t = await startTestRouter({}, 1);
    for (const v of [2, 3] as const) {
      const r = RouterCompletionResponse.parse(
        await json(await t.post(`/api/v${v}/completions/0`, { prompt: `stored prompt v${v}` })),
      );
      expect(r.choices[0]?.text).toBe(expectedText(`stored prompt v${v}`, 256));
      const task = (await json(await t.get(`/api/v1/tasks/0/${r.task_id}`))) as {
        prompt: string | null;
        prompt_urn: string;
        api_version: number;
      };
      expect(task.api_version).toBe(v);
      expect(task.prompt).toBeNull();
      expect(task.prompt_urn).toMatch(
        v === 3
          ? /^urn:blob:v3:mem:0:prompts:[0-9a-f]{64}\.txt$/
          : /^urn:blob:v2:mem:prompts:[0-9a-f]{64}\.txt$/,
      );
      await expect(t.node.core.blobs.get(task.prompt_urn)).resolves.toBe(`stored prompt v${v}`);
    }
  });

  it("the response is the same for the same prompt and parameters (deterministic demo)", async () => {
    t = await startTestRouter({}, 2);
    const body = { prompt: "same", max_tokens: 30, temperature: 0.2 };
    const a = RouterCompletionResponse.parse(
      await json(await t.post("/api/v3/completions/0", body)),
    );
    const b = RouterCompletionResponse.parse(
      await json(await t.post("/api/v3/completions/0", body)),
    );
    expect(a.choices[0]?.text).toBe(b.choices[0]?.text);
    expect(a.miners?.[0]?.result_hash).toBe(b.miners?.[0]?.result_hash);
    // Least-recently-used selection spreads the two tasks over both miners.
    expect(a.miners?.[0]?.miner_id).not.toBe(b.miners?.[0]?.miner_id);
  });

  it("streams SSE chunks ending in data: [DONE]; the last chunk carries usage", async () => {
    t = await startTestRouter({}, 0);
    await t.addMiners(1, { demo: { tokenDelayMs: 2 } });
    const res = await t.post("/api/v1/completions/0", {
      prompt: "stream me",
      max_tokens: 10,
      stream: true,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const events = await readSse(res);
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((e) => RouterCompletionChunk.parse(JSON.parse(e)));
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    const text = chunks.map((c) => c.choices[0]?.text ?? "").join("");
    expect(text).toBe(expectedText("stream me", 10));
    const last = chunks.at(-1);
    expect(last?.choices[0]?.finish_reason).toBe("length");
    expect(last?.usage).toEqual({ prompt_tokens: 2, completion_tokens: 10, total_tokens: 12 });
    expect(chunks.slice(0, -1).every((c) => c.usage === undefined)).toBe(true);
  });

  it("a private session forces stream:false and hides prompt and result in /tasks", async () => {
    t = await startTestRouter(
      { config: { sessions: [{ id: 7, model: "demo", mode: "ephemeral", private: true }] } },
      1,
    );
    const res = await t.post("/api/v1/completions/7", { prompt: "secret", stream: true });
    expect(res.headers.get("content-type")).toContain("application/json");
    const r = RouterCompletionResponse.parse(await json(res));
    expect(r.choices[0]?.text).toBe(expectedText("secret", 256));
    const task = (await json(await t.get("/api/v1/tasks/7/0"))) as {
      prompt: unknown;
      result: { text: unknown };
      private: boolean;
    };
    expect(task).toMatchObject({ private: true, prompt: null, result: { text: null } });
  });

  it("max_miners caps the replicas of a redundant session", async () => {
    t = await startTestRouter(
      { config: { sessions: [{ id: 1, model: "demo", mode: "ephemeral", redundancy: 3 }] } },
      3,
    );
    const r = RouterCompletionResponse.parse(
      await json(await t.post("/api/v1/completions/1", { prompt: "cap", max_miners: 2 })),
    );
    expect(r.miners).toHaveLength(2);
    expect(r.consensus).toEqual({ method: "majority", agreement: 1, replicas: 2 });
  });
});

describe("POST completions — every v1 request field", () => {
  it("reaches the miner or shapes the task, and the answer echoes it", async () => {
    t = await startTestRouter(
      { config: { sessions: [{ id: 6, model: "demo", mode: "ephemeral", redundancy: 3 }] } },
      0,
    );
    const miners = [
      await t.addRaw("honest", { text: " same" }),
      await t.addRaw("honest", { text: " same" }),
      await t.addRaw("honest", { text: " same" }),
    ];
    const body = {
      session_id: 6,
      prompt: "All fields, as client code sends them.",
      prompt_type: 1,
      prompt_template: "",
      stream: false,
      timeout: 300,
      precommit_timeout: 90,
      client_reference: "req_all_fields",
      max_tokens: 600,
      temperature: 0.3,
      top_p: 0.9,
      top_k: 40,
      presence_penalty: 0.1,
      frequency_penalty: 0.2,
      max_miners: 2,
    };
    const res = await t.post("/api/v1/completions", body);
    const r = RouterCompletionResponse.parse(await json(res));
    expect(r).toMatchObject({
      session_id: 6,
      client_reference: "req_all_fields",
      choices: [{ text: " same", finish_reason: "stop" }],
      consensus: { method: "majority", replicas: 2 },
    });
    // max_miners 2 caps the session's redundancy 3: only two miners got the task.
    const given = miners.flatMap((m) => m.tasks);
    expect(given).toHaveLength(2);
    for (const task of given) {
      expect(task).toMatchObject({ session_id: 6, prompt: body.prompt, stream: false });
      expect(task.params).toEqual({
        max_tokens: 600,
        temperature: 0.3,
        top_p: 0.9,
        top_k: 40,
        presence_penalty: 0.1,
        frequency_penalty: 0.2,
        prompt_type: 1,
        prompt_template: "",
      });
    }
    const detail = (await json(await t.get(`/api/v1/tasks/6/${r.task_id}`))) as Record<
      string,
      unknown
    >;
    expect(detail).toMatchObject({
      timeout: 300,
      precommit_timeout: 90,
      client_reference: "req_all_fields",
      replicas: 2,
      stream: false,
    });
  });

  it("per-miner stats in /api/v1/miners count tasks, failures and latency", async () => {
    t = await startTestRouter({}, 0);
    const cheat = await t.addRaw("bad-commit");
    const honest = await t.addRaw("honest", { text: " counted" });
    RouterCompletionResponse.parse(
      await json(await t.post("/api/v1/completions/0", { prompt: "stats" })),
    );
    const list = (await json(await t.get("/api/v1/miners"))) as {
      miners: Array<{ id: string; stats: Record<string, unknown> }>;
    };
    const stats = Object.fromEntries(list.miners.map((m) => [m.id, m.stats]));
    expect(stats[cheat.id]).toMatchObject({
      tasks_assigned: 1,
      tasks_completed: 0,
      failures: 1,
      avg_latency_ms: null,
    });
    expect(stats[honest.id]).toMatchObject({ tasks_assigned: 1, tasks_completed: 1, failures: 0 });
    expect(stats[honest.id]?.avg_latency_ms).toBeTypeOf("number");
    expect(stats[honest.id]?.last_latency_ms).toBe(stats[honest.id]?.avg_latency_ms);
    // The evidence names the hash the honest miner precommitted.
    const detail = (await json(await t.get("/api/v1/tasks/0/0"))) as {
      assignments: Array<{ miner_id: string; precommit_hash: string | null }>;
    };
    expect(detail.assignments.find((a) => a.miner_id === honest.id)?.precommit_hash).toBe(
      sha256Hex(" counted"),
    );
  });
});

describe("POST completions — deduplication by client_reference", () => {
  it("a repeat returns the first task's result and never runs it twice", async () => {
    t = await startTestRouter({}, 2);
    const body = { prompt: "pay once", max_tokens: 8, client_reference: "req_dedupe" };
    const [a, b] = await Promise.all([
      t.post("/api/v3/completions/0", body),
      t.post("/api/v3/completions/0", body),
    ]);
    const ra = RouterCompletionResponse.parse(await json(a));
    const rb = RouterCompletionResponse.parse(await json(b));
    expect(rb).toEqual(ra);
    const rc = RouterCompletionResponse.parse(
      await json(await t.post("/api/v3/completions/0", body)),
    );
    expect(rc).toEqual(ra);
    const list = (await json(await t.get("/api/v1/tasks/0"))) as { count: number };
    expect(list.count).toBe(1);
    const assigned = t.node.core.miners.list().reduce((n, m) => n + m.stats.assigned, 0);
    expect(assigned).toBe(1);
  });

  it("a reference whose first attempt found no miner may run on retry", async () => {
    t = await startTestRouter({}, 0);
    const body = { prompt: "retry me", client_reference: "req_retry" };
    await expectError(await t.post("/api/v3/completions/0", body), 503, "no_miners_available");
    await t.addMiners(1);
    const r = RouterCompletionResponse.parse(
      await json(await t.post("/api/v3/completions/0", body)),
    );
    expect(r.client_reference).toBe("req_retry");
    expect(r.task_id).toBe(1);
  });
});

describe("POST completions — errors", () => {
  it("missing_session when no session is named and there is no default", async () => {
    t = await startTestRouter(
      { config: { sessions: [{ id: 4, model: "demo", mode: "ephemeral" }] } },
      1,
    );
    const e = await expectError(
      await t.post("/api/v1/completions", { prompt: "x" }),
      400,
      "missing_session",
    );
    expect(e.error.message).toContain("no session_id");
  });

  it("session_not_found for an unknown session (path and body)", async () => {
    t = await startTestRouter({}, 1);
    await expectError(
      await t.post("/api/v3/completions/99", { prompt: "x" }),
      404,
      "session_not_found",
    );
    await expectError(
      await t.post("/api/v1/completions", { session_id: 42, prompt: "x" }),
      404,
      "session_not_found",
    );
  });

  it("invalid_request for a session id of the wrong type", async () => {
    t = await startTestRouter({}, 1);
    const a = await expectError(
      await t.post("/api/v1/completions/abc", { prompt: "x" }),
      400,
      "invalid_request",
    );
    expect(JSON.stringify(a.error.details)).toContain("session_id must be a non-negative integer");
    const b = await expectError(
      await t.post("/api/v1/completions", { session_id: true, prompt: "x" }),
      400,
      "invalid_request",
    );
    expect(b.error.details?.issues).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: "session_id" })]),
    );
    await expectError(
      await t.post("/api/v1/completions", { session_id: -1, prompt: "x" }),
      400,
      "invalid_request",
    );
  });

  it("invalid_json for a body that is not JSON, or empty", async () => {
    t = await startTestRouter({}, 1);
    await expectError(await t.post("/api/v1/completions/0", "{not json"), 400, "invalid_json");
    await expectError(await t.post("/api/v1/completions/0", ""), 400, "invalid_json");
  });

  it("invalid_request for an empty prompt, bad max_tokens, timeouts out of range", async () => {
    t = await startTestRouter({}, 1);
    const e = await expectError(
      await t.post("/api/v1/completions/0", { prompt: "" }),
      400,
      "invalid_request",
    );
    expect(e.error.details?.issues).toEqual([
      expect.objectContaining({ path: "prompt", message: "prompt must not be empty" }),
    ]);
    await expectError(
      await t.post("/api/v1/completions/0", { prompt: "x", max_tokens: -5 }),
      400,
      "invalid_request",
    );
    await expectError(
      await t.post("/api/v1/completions/0", { prompt: "x", max_tokens: 10_000_000 }),
      400,
      "invalid_request",
    );
    await expectError(
      await t.post("/api/v1/completions/0", { prompt: "x", timeout: 0 }),
      400,
      "invalid_request",
    );
    await expectError(
      await t.post("/api/v1/completions/0", { prompt: "x", timeout: 100_000 }),
      400,
      "invalid_request",
    );
    const tp = await expectError(
      await t.post("/api/v1/completions/0", { prompt: "x", timeout: 10, precommit_timeout: 10 }),
      400,
      "invalid_request",
    );
    expect(tp.error.message).toBe("timeout must be greater than precommit_timeout");
    await expectError(
      await t.post("/api/v1/completions/0", { prompt: 12 }),
      400,
      "invalid_request",
    );
  });

  it("invalid_request when the prompt does not fit the model's context", async () => {
    t = await startTestRouter(
      { config: { sessions: [{ id: 0, model: "demo", mode: "ephemeral", context_length: 16 }] } },
      1,
    );
    const e = await expectError(
      await t.post("/api/v1/completions/0", { prompt: "word ".repeat(40) }),
      400,
      "invalid_request",
    );
    expect(e.error.details).toMatchObject({ context_length: 16 });
    // A prompt that fits gets its completion budget cut to the room left.
    const r = RouterCompletionResponse.parse(
      await json(
        await t.post("/api/v1/completions/0", { prompt: "word ".repeat(10), max_tokens: 100 }),
      ),
    );
    expect(r.usage.prompt_tokens + r.usage.completion_tokens).toBeLessThanOrEqual(16);
  });

  it("no_miners_available (503) when none is connected, and when all stay busy past the queue bound", async () => {
    t = await startTestRouter({ queueTimeoutMs: 100 }, 0);
    const none = await expectError(
      await t.post("/api/v3/completions/0", { prompt: "x" }),
      503,
      "no_miners_available",
    );
    expect(none.error.details).toMatchObject({ required: 1, available: 0, connected: 0 });
    const busy = await t.addRaw("no-precommit");
    const first = t.post("/api/v3/completions/0", {
      prompt: "slow",
      timeout: 2,
      precommit_timeout: 1,
    });
    await waitFor(() => busy.tasks.length === 1);
    const e = await expectError(
      await t.post("/api/v3/completions/0", { prompt: "x" }),
      503,
      "no_miners_available",
    );
    expect(e.error.message).toContain("busy");
    expect(e.error.details).toMatchObject({ connected: 1, available: 0, queued_ms: 100 });
    expect(busy.tasks).toHaveLength(1);
    // The slow one fails on its own (its only miner never precommits).
    await expectError(await first, 502, "task_failed");
  });

  it("no_miners_available when a redundant session needs more miners than are free", async () => {
    t = await startTestRouter(
      { config: { sessions: [{ id: 0, model: "demo", mode: "ephemeral", redundancy: 3 }] } },
      2,
    );
    const e = await expectError(
      await t.post("/api/v3/completions/0", { prompt: "x" }),
      503,
      "no_miners_available",
    );
    expect(e.error.details).toMatchObject({ required: 3, available: 2 });
  });

  it("miners serving another model do not count", async () => {
    t = await startTestRouter({}, 0);
    await t.addMiners(1, { models: ["llama"] });
    await expectError(
      await t.post("/api/v3/completions/0", { prompt: "x" }),
      503,
      "no_miners_available",
    );
  });
});
