import { RouterCompletionResponse, RouterErrorBody } from "@portal/contracts";
import { afterEach, describe, expect, it } from "vitest";
import { startTestRouter, type TestRouter, waitFor } from "../testing/harness.js";

let t: TestRouter | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function body(res: Response): Promise<unknown> {
  return res.json();
}

describe("bounded wait queue for busy miners", () => {
  it("a task waits for a busy miner and runs when it frees up; waiting tasks run in FIFO order", async () => {
    t = await startTestRouter({ queueTimeoutMs: 10_000 }, 0);
    const raw = await t.addRaw("held", { text: " held answer" });
    const router = t;
    const first = router.post("/api/v1/completions/0", { prompt: "first" });
    await waitFor(() => raw.tasks.length === 1);
    const second = router.post("/api/v1/completions/0", { prompt: "second" });
    await waitFor(() => router.node.core.dispatcher.queued === 1);
    const third = router.post("/api/v1/completions/0", { prompt: "third" });
    await waitFor(() => router.node.core.dispatcher.queued === 2);
    expect(raw.tasks).toHaveLength(1);

    raw.release();
    await waitFor(() => raw.tasks.length === 2);
    // FIFO: the second request got the freed miner, the third still waits.
    expect(raw.tasks[1]?.prompt).toBe("second");
    expect(router.node.core.dispatcher.queued).toBe(1);
    raw.release();
    await waitFor(() => raw.tasks.length === 3);
    expect(raw.tasks[2]?.prompt).toBe("third");
    raw.release();

    const results = await Promise.all([first, second, third]);
    for (const res of results) {
      const json = await body(res);
      expect(res.status, JSON.stringify(json)).toBe(200);
      expect(RouterCompletionResponse.parse(json).choices[0]?.text).toBe(" held answer");
    }
    expect(router.node.core.dispatcher.queued).toBe(0);
  });

  it("answers 503 at once when no miner serving the model is connected, whatever the bound", async () => {
    t = await startTestRouter({ queueTimeoutMs: 60_000 }, 0);
    await t.addMiners(1, { models: ["other-model"] });
    const res = await t.post("/api/v1/completions/0", { prompt: "nobody" });
    const json = RouterErrorBody.parse(await body(res));
    expect(res.status).toBe(503);
    expect(json.error).toMatchObject({
      code: "no_miners_available",
      details: { connected: 0, required: 1 },
    });
    expect(json.error.message).toContain("is connected");
    expect(t.node.core.dispatcher.queued).toBe(0);
  });

  it("answers 503 after the bound when every miner stays busy; the session's queue_timeout wins", async () => {
    t = await startTestRouter(
      {
        queueTimeoutMs: 60_000,
        config: {
          sessions: [{ id: 0, model: "demo", mode: "ephemeral", queue_timeout: 0.15 }],
          default_session_id: 0,
        },
      },
      0,
    );
    const raw = await t.addRaw("held");
    const router = t;
    const first = router.post("/api/v1/completions/0", { prompt: "hog" });
    await waitFor(() => raw.tasks.length === 1);
    const res = await router.post("/api/v1/completions/0", { prompt: "waits" });
    const json = RouterErrorBody.parse(await body(res));
    expect(res.status).toBe(503);
    expect(json.error).toMatchObject({
      code: "no_miners_available",
      details: { connected: 1, available: 0, queued_ms: 150 },
    });
    expect(json.error.message).toContain("stayed busy");
    // The refused task never reached a miner, and the first one still completes.
    expect(raw.tasks).toHaveLength(1);
    raw.release();
    expect((await first).status).toBe(200);
  });

  it("a waiting task is refused as soon as the last miner able to serve it disconnects", async () => {
    t = await startTestRouter({ queueTimeoutMs: 60_000 }, 0);
    const raw = await t.addRaw("held");
    const router = t;
    const first = router.post("/api/v1/completions/0", { prompt: "hog", timeout: 5 });
    await waitFor(() => raw.tasks.length === 1);
    const waiting = router.post("/api/v1/completions/0", { prompt: "waits" });
    await waitFor(() => router.node.core.dispatcher.queued === 1);
    raw.close();
    const res = await waiting;
    const json = RouterErrorBody.parse(await body(res));
    expect(res.status).toBe(503);
    expect(json.error.details).toMatchObject({ connected: 0 });
    expect((await first).status).toBe(502);
  });

  it("a redundant task waits until enough miners are free at once", async () => {
    t = await startTestRouter(
      {
        queueTimeoutMs: 10_000,
        config: {
          sessions: [{ id: 0, model: "demo", mode: "ephemeral", redundancy: 2 }],
          default_session_id: 0,
        },
      },
      0,
    );
    const a = await t.addRaw("held", { text: " same" });
    const b = await t.addRaw("held", { text: " same" });
    const router = t;
    const first = router.post("/api/v1/completions/0", { prompt: "one" });
    await waitFor(() => a.tasks.length === 1 && b.tasks.length === 1);
    const second = router.post("/api/v1/completions/0", { prompt: "two" });
    await waitFor(() => router.node.core.dispatcher.queued === 1);
    a.release();
    // One miner free is not enough for two replicas: once the router has taken a's commit (and
    // with it tried the queue), the second task still waits.
    const firstTask = router.node.core.tasks.get(0, 0);
    await waitFor(() => firstTask.assignments.some((x) => x.status === "committed"));
    expect(router.node.core.dispatcher.queued).toBe(1);
    expect(a.tasks).toHaveLength(1);
    b.release();
    await waitFor(() => a.tasks.length === 2 && b.tasks.length === 2);
    a.release();
    b.release();
    const r1 = RouterCompletionResponse.parse(await body(await first));
    const r2 = RouterCompletionResponse.parse(await body(await second));
    expect(r1.consensus?.replicas).toBe(2);
    expect(r2.consensus).toMatchObject({ method: "majority", replicas: 2 });
  });
});
