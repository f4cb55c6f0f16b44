import { RouterCompletionResponse } from "@portal/contracts";
import { afterEach, describe, expect, it } from "vitest";
import { startTestRouter, type TestRouter, waitFor } from "../testing/harness.js";
import { sha256Hex } from "./tokens.js";

let t: TestRouter | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe("a miner reconnecting under its id", () => {
  it("replaces the old connection, and the old one's running task goes to the new one", async () => {
    t = await startTestRouter({}, 0);
    const old = await t.addRaw("held", { id: "same-id" });
    const res = t.post("/api/v1/completions/0", { prompt: "in flight", timeout: 20 });
    await waitFor(() => old.tasks.length === 1);
    const fresh = await t.addRaw("honest", { id: "same-id", text: " after reconnect" });
    await old.closed();
    const r = await res;
    const body = await r.json();
    expect(r.status, JSON.stringify(body)).toBe(200);
    const done = RouterCompletionResponse.parse(body);
    expect(done.choices[0]?.text).toBe(" after reconnect");
    expect(done.miners?.map((m) => [m.miner_id, m.status])).toEqual([
      ["same-id", "failed: replaced by a new connection"],
      ["same-id", "committed"],
    ]);
    expect(fresh.tasks).toHaveLength(1);
    // Being replaced is not held against the miner.
    expect(t.node.core.miners.get("same-id")?.stats).toMatchObject({ failed: 0, completed: 1 });
  });

  it("frames the replaced connection still sends are ignored", async () => {
    t = await startTestRouter({}, 0);
    const hub = t.node.core.miners;
    // Sockets whose close does nothing, so the old one can keep talking after it was replaced.
    const connect = () => {
      const sent: Array<{ type: string; assignment_id?: string }> = [];
      const link = hub.attach({ send: (d) => sent.push(JSON.parse(d)), close: () => {} });
      const say = (o: unknown) => link.receive(JSON.stringify(o));
      say({ type: "hello", miner_id: "dup", models: ["demo"], capacity: 1, engine: "fake" });
      const task = () => sent.find((f) => f.type === "task")?.assignment_id;
      return { say, task };
    };
    const commit = (say: (o: unknown) => void, aid: string, text: string) => {
      say({ type: "precommit", assignment_id: aid, hash: sha256Hex(text) });
      say({ type: "commit", assignment_id: aid, text, finish_reason: "stop" });
    };
    const a = connect();
    const res = t.post("/api/v1/completions/0", { prompt: "in flight", timeout: 20 });
    await waitFor(() => a.task() !== undefined);
    const b = connect();
    const moved = b.task();
    expect(moved).toBeDefined();
    expect(moved).not.toBe(a.task());
    // The old connection answers the new one's assignment (same miner id): ignored.
    commit(a.say, moved ?? "", " from the old socket");
    expect(hub.get("dup")?.active.size).toBe(1);
    commit(b.say, moved ?? "", " from the new socket");
    const done = RouterCompletionResponse.parse(await (await res).json());
    expect(done.choices[0]?.text).toBe(" from the new socket");
  });
});

describe("choosing miners", () => {
  async function completion(body: Record<string, unknown>) {
    const res = await t?.post("/api/v1/completions/0", body);
    if (res === undefined) throw new Error("no router");
    const json = await res.json();
    return { status: res.status, body: json };
  }

  it("a miner claiming a huge capacity that never answers loses the work to one that does", async () => {
    t = await startTestRouter({}, 0);
    const liar = await t.addRaw("no-precommit", { capacity: 1024 });
    const honest = await t.addRaw("honest", { capacity: 2 });
    // The first task goes to the liar (nothing known yet), misses its precommit and moves on.
    const first = await completion({ prompt: "q0", precommit_timeout: 1, timeout: 10 });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(liar.tasks).toHaveLength(1);
    // From then on the miner that answers gets every task it has room for.
    for (let i = 1; i <= 4; i++) {
      const r = await completion({ prompt: `q${i}`, precommit_timeout: 1, timeout: 10 });
      const done = RouterCompletionResponse.parse(r.body);
      expect(done.miners?.map((m) => m.miner_id)).toEqual([honest.id]);
    }
    expect(liar.tasks).toHaveLength(1);
    expect(t.node.core.miners.get(liar.id)?.stats.failStreak).toBe(1);
  });

  it("a task timeout counts against the miner that held it", async () => {
    t = await startTestRouter({}, 0);
    const stuck = await t.addRaw("no-commit", { capacity: 64 });
    const timedOut = await completion({ prompt: "hang", timeout: 1.5, precommit_timeout: 1 });
    expect(timedOut.status).toBe(504);
    const honest = await t.addRaw("honest");
    await completion({ prompt: "warm" });
    // The honest miner was used last, so load and recency alone would pick the stuck one first.
    const hub = t.node.core.miners;
    expect(hub.get(stuck.id)?.stats.failStreak).toBe(1);
    const order = hub.pick(t.node.core.sessions.get(0), 2).map((m) => m.id);
    expect(order).toEqual([honest.id, stuck.id]);
  });

  it("a deprioritised miner still serves when no other can, and one commit clears its record", async () => {
    t = await startTestRouter({}, 0);
    const slow = await t.addRaw("held");
    const other = await t.addRaw("honest");
    const first = await completion({ prompt: "a", precommit_timeout: 1, timeout: 10 });
    expect(first.status).toBe(200);
    const stats = t.node.core.miners.get(slow.id)?.stats;
    expect(stats?.failStreak).toBe(1);
    other.close();
    await waitFor(() => t?.node.core.miners.get(other.id) === undefined);
    const res = completion({ prompt: "b", timeout: 10 });
    await waitFor(() => slow.tasks.length === 2);
    slow.release(true); // the first task's assignment is long gone; the second one commits
    expect((await res).status).toBe(200);
    expect(stats?.failStreak).toBe(0);
  });
});
