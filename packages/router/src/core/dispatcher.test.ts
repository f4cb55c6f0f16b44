import {
  RouterCompletionChunk,
  RouterCompletionResponse,
  RouterErrorBody,
} from "@portal/contracts";
import { afterEach, describe, expect, it } from "vitest";
import { demoWords } from "../miner/engines/demo.js";
import { readSse, startTestRouter, type TestRouter, waitFor } from "../testing/harness.js";

let t: TestRouter | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

type TaskJson = {
  state: string;
  history: Array<{ state: string }>;
  assignments: Array<{ miner_id: string; status: string; failure: string | null }>;
  error: { code: string } | null;
};

async function ok(res: Response): Promise<RouterCompletionResponse> {
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return RouterCompletionResponse.parse(body);
}

async function fail(res: Response, status: number, code: string): Promise<RouterErrorBody> {
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(status);
  const parsed = RouterErrorBody.parse(body);
  expect(parsed.error.code).toBe(code);
  return parsed;
}

async function task(sid: number, tid: number): Promise<TaskJson> {
  const res = await t?.get(`/api/v1/tasks/${sid}/${tid}`);
  if (res === undefined) throw new Error("no router");
  return (await res.json()) as TaskJson;
}

const fanOut = (redundancy: number) => ({
  config: { sessions: [{ id: 0, model: "demo", mode: "ephemeral" as const, redundancy }] },
});

describe("task lifecycle", () => {
  it("a completed task went created → assigned → acknowledged → precommitted → committed → validated → closed", async () => {
    t = await startTestRouter({}, 1);
    const r = await ok(await t.post("/api/v1/completions/0", { prompt: "life" }));
    const detail = await task(0, r.task_id);
    expect(detail.history.map((h) => h.state)).toEqual([
      "created",
      "assigned",
      "acknowledged",
      "precommitted",
      "committed",
      "validated",
      "closed",
    ]);
  });

  it("retention keeps the newest finished tasks; evicted ones are task_not_found", async () => {
    t = await startTestRouter({ taskRetention: 3 }, 1);
    for (let i = 0; i < 5; i++)
      await ok(await t.post("/api/v1/completions/0", { prompt: `p${i}` }));
    const list = (await (await t.get("/api/v1/tasks/0")).json()) as {
      tasks: Array<{ task_id: number }>;
    };
    expect(list.tasks.map((x) => x.task_id)).toEqual([2, 3, 4]);
    await fail(await t.get("/api/v1/tasks/0/0"), 404, "task_not_found");
    const status = (await (await t.get("/api/v1/status")).json()) as { tasks: { total: number } };
    expect(status.tasks.total).toBe(5);
  });
});

describe("faults", () => {
  it("task_timeout (504) when the miner precommits but never commits; the miner is told to cancel", async () => {
    t = await startTestRouter({}, 0);
    const raw = await t.addRaw("no-commit");
    const e = await fail(
      await t.post("/api/v1/completions/0", {
        prompt: "hang",
        timeout: 1.5,
        precommit_timeout: 1,
      }),
      504,
      "task_timeout",
    );
    expect(e.error.details).toMatchObject({ timeout: 1.5, state: "precommitted" });
    expect((await task(0, 0)).state).toBe("timed_out");
    await waitFor(() => raw.cancels.length === 1);
    // The router keeps serving: the miner's slot was freed.
    expect(t.node.core.miners.get(raw.id)?.active.size).toBe(0);
  });

  it("a miner that never precommits loses the task to another miner", async () => {
    t = await startTestRouter({}, 0);
    const silent = await t.addRaw("no-precommit");
    await t.addMiners(1);
    const r = await ok(
      await t.post("/api/v1/completions/0", {
        prompt: "reassign",
        timeout: 10,
        // Long enough for the honest demo miner to precommit even on a loaded machine.
        precommit_timeout: 1,
      }),
    );
    expect(r.miners?.map((m) => [m.miner_id, m.status])).toEqual([
      [silent.id, "failed: no precommit before precommit_timeout"],
      [t.miners[0]?.id, "committed"],
    ]);
    const stats = t.node.core.miners.get(silent.id)?.stats;
    expect(stats).toMatchObject({ assigned: 1, failed: 1, completed: 0 });
  });

  it("a commit that does not match its precommit is rejected; alone, the task fails (502)", async () => {
    t = await startTestRouter({}, 0);
    await t.addRaw("bad-commit");
    const e = await fail(
      await t.post("/api/v1/completions/0", { prompt: "tamper" }),
      502,
      "task_failed",
    );
    expect(e.error.details?.failures).toEqual([
      expect.objectContaining({ reason: "commit does not match precommit" }),
    ]);
    expect((await task(0, 0)).state).toBe("failed");
    // A repeat with the same reference gets the same failure without running again.
    const body = { prompt: "tamper 2", client_reference: "req_tamper" };
    await fail(await t.post("/api/v1/completions/0", body), 502, "task_failed");
    await fail(await t.post("/api/v1/completions/0", body), 502, "task_failed");
    expect((await task(0, 1)).assignments).toHaveLength(1);
  });

  it("a commit mismatch is reassigned to an honest miner when there is one", async () => {
    t = await startTestRouter({}, 0);
    const cheat = await t.addRaw("bad-commit");
    const honest = await t.addRaw("honest", { text: " the honest answer" });
    const r = await ok(await t.post("/api/v1/completions/0", { prompt: "tamper" }));
    expect(r.choices[0]?.text).toBe(" the honest answer");
    expect(r.miners?.map((m) => [m.miner_id, m.status])).toEqual([
      [cheat.id, "failed: commit does not match precommit"],
      [honest.id, "committed"],
    ]);
  });

  it("a miner that disconnects mid-task is dropped and the task reassigned", async () => {
    t = await startTestRouter({}, 0);
    const flaky = await t.addRaw("disconnect");
    await t.addMiners(1);
    const r = await ok(await t.post("/api/v1/completions/0", { prompt: "drop" }));
    expect(r.miners?.map((m) => m.status)).toEqual(["failed: miner disconnected", "committed"]);
    expect(r.miners?.[0]?.miner_id).toBe(flaky.id);
    expect(t.node.core.miners.get(flaky.id)).toBeUndefined();
  });

  it("a streamed task survives reassignment without repeating text", async () => {
    t = await startTestRouter({}, 0);
    const first = demoWords({ model: "demo", prompt: "stream drop", max_tokens: 6 }).words[0];
    await t.addRaw("disconnect", { partial: ` ${first}` });
    await t.addMiners(1);
    const res = await t.post("/api/v1/completions/0", {
      prompt: "stream drop",
      stream: true,
      max_tokens: 6,
    });
    const events = await readSse(res);
    expect(events.at(-1)).toBe("[DONE]");
    const pieces = events
      .slice(0, -1)
      .map((e) => RouterCompletionChunk.parse(JSON.parse(e)).choices[0]?.text ?? "");
    expect(pieces[0]).toBe(` ${first}`);
    const final = (await task(0, 0)) as TaskJson & { result: { text: string } };
    expect(final.assignments.map((a) => a.status)).toEqual(["failed", "committed"]);
    expect(pieces.join("")).toBe(final.result.text);
  });

  it("a stream whose reassigned result diverges ends with an error event, then [DONE]", async () => {
    t = await startTestRouter({}, 0);
    await t.addRaw("disconnect", { partial: " not what the demo says" });
    await t.addMiners(1);
    const body = { prompt: "diverge", stream: true, client_reference: "req_div" };
    const events = await readSse(await t.post("/api/v1/completions/0", body));
    expect(events.at(-1)).toBe("[DONE]");
    expect(JSON.parse(events.at(-2) ?? "{}")).toMatchObject({ error: { code: "task_failed" } });
    // The result itself is kept: a non-streamed retry with the same reference returns it.
    const again = await ok(await t.post("/api/v1/completions/0", { ...body, stream: false }));
    expect(again.task_id).toBe(0);
    expect(again.choices[0]?.text).toBe(
      demoWords({ model: "demo", prompt: "diverge", max_tokens: 256 })
        .words.map((w) => ` ${w}`)
        .join(""),
    );
  });

  it("a miner that stops heart-beating is dropped and its task reassigned", async () => {
    // The honest miner heart-beats every 100 ms; only ten missed beats in a row drop a miner, so a
    // stall of the test process does not drop it too.
    t = await startTestRouter({ heartbeatIntervalMs: 100, heartbeatTimeoutMs: 1000 }, 0);
    const mute = await t.addRaw("mute");
    await t.addMiners(1);
    const r = await ok(await t.post("/api/v1/completions/0", { prompt: "pulse", timeout: 10 }));
    expect(r.miners?.[0]).toMatchObject({
      miner_id: mute.id,
      status: "failed: miner disconnected",
    });
    expect(r.miners?.[1]?.status).toBe("committed");
    await mute.closed();
    const miners = (await (await t.get("/api/v1/miners")).json()) as {
      miners: Array<{ id: string }>;
    };
    expect(miners.miners.map((m) => m.id)).toEqual([t.miners[0]?.id]);
  });

  it("garbage frames never crash the router; the same miner keeps serving", async () => {
    t = await startTestRouter({}, 0);
    const m = await t.addRaw("honest", { text: " still fine" });
    m.sendRaw("not json at all");
    m.sendRaw(Buffer.from([0, 1, 2, 3, 255]));
    m.send({ type: "bogus" });
    m.send({ type: "commit", assignment_id: "9.9.9", text: "x", finish_reason: "stop" });
    m.send({ type: "precommit", assignment_id: "0.0.0", hash: "nothex" });
    m.send(null);
    m.sendRaw(`{"type":"commit","text":${"[".repeat(50_000)}${"]".repeat(50_000)}}`);
    await waitFor(() => m.errors.length >= 6);
    expect(m.errors[0]).toBe("frame is not JSON");
    expect(m.errors).toContain("frame nests too deeply");
    const r = await ok(await t.post("/api/v1/completions/0", { prompt: "after garbage" }));
    expect(r.choices[0]?.text).toBe(" still fine");
  });

  it("a socket that keeps sending garbage is closed; one that never says hello too", async () => {
    t = await startTestRouter({}, 1);
    const noisy = await t.addRaw("honest");
    for (let i = 0; i < 25; i++) noisy.sendRaw(`garbage ${i}`);
    await noisy.closed();
    await waitFor(() => t?.node.core.miners.get(noisy.id) === undefined);
    const r = await ok(await t.post("/api/v1/completions/0", { prompt: "still up" }));
    expect(r.miners?.[0]?.miner_id).toBe(t.miners[0]?.id);
  });
});

describe("redundancy and consensus", () => {
  it("majority of identical results wins; evidence marks who agreed", async () => {
    t = await startTestRouter(fanOut(3), 0);
    const a = await t.addRaw("honest", { text: " alpha beta" });
    const b = await t.addRaw("honest", { text: " alpha beta" });
    const c = await t.addRaw("honest", { text: " gamma delta" });
    const r = await ok(await t.post("/api/v3/completions/0", { prompt: "vote" }));
    expect(r.choices[0]?.text).toBe(" alpha beta");
    expect(r.consensus?.method).toBe("majority");
    expect(r.consensus?.replicas).toBe(3);
    expect(r.consensus?.agreement).toBeCloseTo(2 / 3);
    const agreed = Object.fromEntries((r.miners ?? []).map((m) => [m.miner_id, m.agreed]));
    expect(agreed).toEqual({ [a.id]: true, [b.id]: true, [c.id]: false });
  });

  it("without a majority the medoid by text similarity wins", async () => {
    t = await startTestRouter(fanOut(3), 0);
    await t.addRaw("honest", { text: "one two three four" });
    const mid = await t.addRaw("honest", { text: "one two three five" });
    await t.addRaw("honest", { text: "one two six five" });
    const r = await ok(await t.post("/api/v3/completions/0", { prompt: "medoid" }));
    expect(r.consensus?.method).toBe("medoid");
    expect(r.choices[0]?.text).toBe("one two three five");
    expect(r.miners?.find((m) => m.agreed === true)?.miner_id).toBe(mid.id);
    expect(r.consensus?.agreement).toBeGreaterThan(0.5);
  });

  it("demo miners agree unanimously at redundancy 3", async () => {
    t = await startTestRouter(fanOut(3), 3);
    const r = await ok(await t.post("/api/v3/completions/0", { prompt: "unanimous" }));
    expect(r.consensus).toEqual({ method: "majority", agreement: 1, replicas: 3 });
    expect(new Set(r.miners?.map((m) => m.result_hash)).size).toBe(1);
  });

  it("a failed replica with no replacement leaves consensus to the rest", async () => {
    t = await startTestRouter(fanOut(2), 0);
    await t.addRaw("bad-commit");
    await t.addRaw("honest", { text: " survivor" });
    const r = await ok(await t.post("/api/v3/completions/0", { prompt: "partial" }));
    expect(r.choices[0]?.text).toBe(" survivor");
    expect(r.consensus).toEqual({ method: "single", agreement: 1, replicas: 1 });
    expect(r.miners?.map((m) => m.status).sort()).toEqual([
      "committed",
      "failed: commit does not match precommit",
    ]);
  });
});

describe("dedicated sessions", () => {
  it("only the listed miners serve a dedicated session", async () => {
    t = await startTestRouter(
      {
        config: { sessions: [{ id: 5, model: "demo", mode: "dedicated", miners: ["raw-listed"] }] },
      },
      2,
    );
    await fail(await t.post("/api/v1/completions/5", { prompt: "x" }), 503, "no_miners_available");
    await t.addRaw("honest", { id: "raw-listed", text: " dedicated" });
    const r = await ok(await t.post("/api/v1/completions/5", { prompt: "x" }));
    expect(r.miners?.[0]?.miner_id).toBe("raw-listed");
  });
});
