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
