import { afterEach, describe, expect, it } from "vitest";
import { startTestRouter, type TestRouter, waitFor } from "../testing/harness.js";

// A streaming client that goes away: the task is kept for a dedup retry during a grace period,
// then cancelled so its miners stop working for nobody.

let t: TestRouter | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function openStream(router: TestRouter, body: object, signal: AbortSignal) {
  const res = await fetch(`${router.node.url}/api/v3/completions/0`, {
    method: "POST",
    headers: { Authorization: "Bearer default-dev-token", "Content-Type": "application/json" },
    body: JSON.stringify({ ...body, stream: true }),
    signal,
  });
  expect(res.status).toBe(200);
  const reader = res.body?.getReader();
  const first = await reader?.read();
  expect(new TextDecoder().decode(first?.value)).toContain("data: ");
  return reader;
}

async function task(router: TestRouter, id: number) {
  const res = await router.get(`/api/v1/tasks/0/${id}`);
  return (await res.json()) as {
    state: string;
    assignments: Array<{ status: string }>;
    error?: { code: string } | null;
  };
}

describe("streaming client disconnect", () => {
  it("cancels the task and its miner's assignment after the grace period", async () => {
    t = await startTestRouter({ abandonGraceMs: 100 });
    // 200 ms per token: the demo's natural answer to this prompt (28 words) takes ~5.6 s, so the
    // cancel at ~0.1 s after the abort wins by a wide margin even on a loaded machine.
    await t.addMiners(1, { demo: { tokenDelayMs: 200 } });
    const abort = new AbortController();
    await openStream(t, { prompt: "a long answer", max_tokens: 500 }, abort.signal);
    abort.abort();
    await expect
      .poll(async () => (await task(t as TestRouter, 0)).state, { timeout: 3_000 })
      .toBe("failed");
    const detail = await task(t, 0);
    expect(detail.assignments[0]?.status).toBe("cancelled");
    // The miner is free again at once, long before its answer would have finished.
    const res = await t.post("/api/v3/completions/0", { prompt: "next", max_tokens: 3 });
    expect(res.status).toBe(200);
  });

  it("a retry with the same client_reference within the grace period gets the full result", async () => {
    t = await startTestRouter({ abandonGraceMs: 2_000 });
    await t.addMiners(1, { demo: { tokenDelayMs: 5 } });
    const abort = new AbortController();
    const body = { prompt: "retry me", max_tokens: 40, client_reference: "req_retry_abandon" };
    await openStream(t, body, abort.signal);
    abort.abort();
    const res = await t.post("/api/v3/completions/0", { ...body, stream: false });
    const json = (await res.json()) as {
      usage: { completion_tokens: number };
      task_id: number;
      choices: Array<{ finish_reason: string }>;
    };
    expect(res.status).toBe(200);
    expect(json.task_id).toBe(0);
    // The same task, run to its natural end (the demo engine may stop before max_tokens).
    expect(json.usage.completion_tokens).toBeGreaterThan(0);
    expect(["stop", "length"]).toContain(json.choices[0]?.finish_reason);
    expect((await task(t, 0)).state).toBe("closed");
  });

  it("a non-streaming retry waiting on the task keeps it alive when the stream goes away", async () => {
    t = await startTestRouter({ abandonGraceMs: 50 });
    const router = t;
    const raw = await t.addRaw("held", { text: " held to the end" });
    const body = { prompt: "slow answer", client_reference: "req_wait_past_grace" };
    const abort = new AbortController();
    const opened = openStream(router, body, abort.signal);
    await waitFor(() => raw.tasks.length === 1);
    raw.send({ type: "token", assignment_id: raw.tasks[0]?.assignment_id, text: " held" });
    await opened;
    const running = router.node.core.tasks.get(0, 0);
    // The retry (the SSE error message tells clients to retry with the same reference) waits.
    const retry = router.post("/api/v3/completions/0", { ...body, stream: false });
    await waitFor(() => running.listenerCount === 2);
    abort.abort();
    // The stream's listener is gone; the abandonment check ran then and saw the waiting retry.
    await waitFor(() => running.listenerCount === 1);
    raw.release();
    const res = await retry;
    const json = (await res.json()) as { task_id: number; choices: Array<{ text: string }> };
    expect(res.status, JSON.stringify(json)).toBe(200);
    expect(json).toMatchObject({ task_id: 0, choices: [{ text: " held to the end" }] });
    expect((await task(router, 0)).state).toBe("closed");
    expect(raw.cancels).toEqual([]);
  });
});
