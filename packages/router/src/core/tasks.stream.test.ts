import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { readSse, startTestRouter, type TestRouter, waitFor } from "../testing/harness.js";
import { type Assignment, Task } from "./tasks.js";
import { sha256Hex } from "./tokens.js";

// The live stream of a task: what reaches a client is exactly the lead replica's text, and the
// work per token frame does not grow with the text before it.

function newTask(maxTokens = 1_000_000): Task {
  return new Task(0, {
    sessionId: 0,
    apiVersion: 1,
    model: "demo",
    prompt: "x",
    promptTokens: 1,
    params: { max_tokens: maxTokens },
    replicas: 1,
    timeoutS: 10,
    precommitTimeoutS: 5,
    stream: true,
    private: false,
  });
}

function replica(id: string): Assignment {
  return { id, minerId: id, status: "assigned", assignedAt: 0, partialChars: 0 };
}

/** `text` cut into frames at the given (sorted, deduplicated) positions. */
function frames(text: string, cuts: number[]): string[] {
  const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let from = 0;
  for (const c of [...at, text.length]) {
    if (c > from) out.push(text.slice(from, c));
    from = Math.max(from, c);
  }
  return out;
}

function listen(task: Task): string[] {
  const deltas: string[] = [];
  task.subscribe({ onDelta: (d) => deltas.push(d), onDone: () => {} });
  return deltas;
}

describe("Task.appendToken", () => {
  it("forwards exactly the lead's text, however it is framed (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.array(fc.nat()), (text, cuts) => {
        const task = newTask();
        const deltas = listen(task);
        const a = replica("a");
        for (const f of frames(text, cuts)) task.appendToken(a, f, true);
        expect(deltas.join("")).toBe(text);
        expect(task.streamed).toBe(text);
      }),
    );
  });

  it("a replacement re-streaming the same text adds only the rest; a diverging one adds nothing (property)", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 120 }),
        fc.nat(),
        fc.array(fc.nat()),
        fc.array(fc.nat()),
        fc.boolean(),
        (text, stop, cutsA, cutsB, same) => {
          const task = newTask();
          const deltas = listen(task);
          const shown = text.slice(0, stop % (text.length + 1));
          const a = replica("a");
          for (const f of frames(shown, cutsA)) task.appendToken(a, f, true);
          const b = replica("b");
          const other = same ? text : `\u0000${text}`;
          for (const f of frames(other, cutsB)) task.appendToken(b, f, true);
          // Nothing shown yet: the replacement's text is the stream, whatever it is.
          expect(deltas.join("")).toBe(same ? text : shown === "" ? other : shown);
        },
      ),
    );
  });

  it("streams 100,000 frames without ever re-reading the text shown so far", () => {
    const task = newTask();
    const deltas = listen(task);
    const read = vi.spyOn(task, "streamed", "get");
    const a = replica("a");
    const piece = "y".repeat(20);
    for (let i = 0; i < 100_000; i++) task.appendToken(a, piece, true);
    expect(read).not.toHaveBeenCalled();
    expect(deltas).toHaveLength(100_000);
    read.mockRestore();
    expect(task.streamed.length).toBe(2_000_000);
  });
});

describe("a long stream through the router", () => {
  let t: TestRouter | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it("relays 20,000 token frames of 40 characters in order and ends with the commit", async () => {
    // Each frame used to re-compare the whole text streamed so far: this took minutes of CPU.
    t = await startTestRouter(
      {
        config: {
          sessions: [{ id: 0, model: "demo", mode: "ephemeral", context_length: 1_000_000 }],
        },
      },
      0,
    );
    const raw = await t.addRaw("held");
    const res = t.post("/api/v1/completions/0", {
      prompt: "x",
      stream: true,
      max_tokens: 500_000,
      timeout: 120,
      precommit_timeout: 110,
    });
    await waitFor(() => raw.tasks.length === 1);
    const aid = raw.tasks[0]?.assignment_id ?? "";
    const n = 20_000;
    const piece = (i: number) => `${String(i).padStart(39, "0")}|`;
    for (let i = 0; i < n; i++) raw.send({ type: "token", assignment_id: aid, text: piece(i) });
    const text = Array.from({ length: n }, (_, i) => piece(i)).join("");
    raw.send({ type: "precommit", assignment_id: aid, hash: sha256Hex(text) });
    raw.send({ type: "commit", assignment_id: aid, text, finish_reason: "stop" });
    const events = await readSse(await res);
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as { choices: { text: string }[] });
    expect(chunks.map((c) => c.choices[0]?.text ?? "").join("")).toBe(text);
  }, 60_000);
});
