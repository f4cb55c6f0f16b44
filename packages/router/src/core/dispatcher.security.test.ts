import { RouterCompletionChunk, RouterCompletionResponse } from "@portal/contracts";
import { afterEach, describe, expect, it } from "vitest";
import {
  type RawMiner,
  readSse,
  startTestRouter,
  type TestRouter,
  waitFor,
} from "../testing/harness.js";
import { countTokens, sha256Hex } from "./tokens.js";

// What a dishonest miner can send about its own work, and what the router makes of it.

let t: TestRouter | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** Post a completion to a "held" raw miner and answer its task with `frames` instead. */
async function answerRaw(
  raw: RawMiner,
  body: Record<string, unknown>,
  frames: (aid: string) => unknown[],
): Promise<Response> {
  if (t === undefined) throw new Error("no router");
  const seen = raw.tasks.length;
  const res = t.post("/api/v1/completions/0", body);
  await waitFor(() => raw.tasks.length > seen);
  const aid = raw.tasks[seen]?.assignment_id ?? "";
  for (const f of frames(aid)) raw.send(f);
  return res;
}

async function answerWith(
  raw: RawMiner,
  body: Record<string, unknown>,
  frames: (aid: string) => unknown[],
): Promise<{ status: number; body: unknown }> {
  const r = await answerRaw(raw, body, frames);
  return { status: r.status, body: await r.json() };
}

/** The text and finish_reason of each SSE chunk, and the usage of the last. */
async function chunks(res: Response) {
  const events = await readSse(res);
  expect(events.at(-1)).toBe("[DONE]");
  const parsed = events.slice(0, -1).map((e) => RouterCompletionChunk.parse(JSON.parse(e)));
  return {
    texts: parsed.map((c) => c.choices[0]?.text ?? ""),
    finish: parsed.at(-1)?.choices[0]?.finish_reason,
    usage: parsed.at(-1)?.usage,
  };
}

const tokenFrames = (text: string, times: number) => (aid: string) =>
  Array.from({ length: times }, () => ({ type: "token", assignment_id: aid, text }));

const commitFrames =
  (text: string, usage?: unknown, finish = "stop") =>
  (aid: string) => [
    { type: "precommit", assignment_id: aid, hash: sha256Hex(text) },
    {
      type: "commit",
      assignment_id: aid,
      text,
      finish_reason: finish,
      ...(usage !== undefined && { usage }),
    },
  ];

function completion(r: { status: number; body: unknown }): RouterCompletionResponse {
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return RouterCompletionResponse.parse(r.body);
}

describe("a miner's commit does not decide the bill", () => {
  it("usage is the router's count of the prompt it sent and the text it returns, whatever the miner reports", async () => {
    t = await startTestRouter({}, 0);
    const raw = await t.addRaw("held");
    const prompt = "hi there";
    const own = {
      prompt_tokens: countTokens(prompt),
      completion_tokens: countTokens(" two words"),
    };
    for (const claimed of [
      { prompt_tokens: 1_000_000, completion_tokens: 5_000_000 },
      { prompt_tokens: 0, completion_tokens: 0 },
      { prompt_tokens: 2 ** 31 + 1, completion_tokens: Number.MAX_SAFE_INTEGER },
      undefined,
    ]) {
      const r = completion(
        await answerWith(raw, { prompt, max_tokens: 5 }, commitFrames(" two words", claimed)),
      );
      expect(r.usage, JSON.stringify(claimed)).toEqual({
        ...own,
        total_tokens: own.prompt_tokens + own.completion_tokens,
      });
    }
  });
});

describe("max_tokens bounds what a miner returns", () => {
  it("a committed text longer than max_tokens is cut there, finish_reason length", async () => {
    t = await startTestRouter({}, 0);
    const raw = await t.addRaw("held");
    const long = "word ".repeat(5000);
    const r = completion(await answerWith(raw, { prompt: "x", max_tokens: 5 }, commitFrames(long)));
    expect(r.choices[0]).toMatchObject({
      text: "word word word word word",
      finish_reason: "length",
    });
    expect(r.usage.completion_tokens).toBe(5);
    // Within the budget the miner's own text and finish_reason stand.
    const short = completion(
      await answerWith(raw, { prompt: "x", max_tokens: 5 }, commitFrames(" one two", undefined)),
    );
    expect(short.choices[0]).toMatchObject({ text: " one two", finish_reason: "stop" });
  });

  it("a stream stops forwarding token frames at max_tokens and ends with the same cut", async () => {
    t = await startTestRouter({}, 0);
    const raw = await t.addRaw("held");
    const long = "word ".repeat(5000);
    const res = await answerRaw(raw, { prompt: "x", max_tokens: 5, stream: true }, (aid) => [
      ...tokenFrames("word ", 5000)(aid),
      ...commitFrames(long)(aid),
    ]);
    const { texts, finish, usage } = await chunks(res);
    expect(texts.join("")).toBe("word word word word word");
    // Five one-token deltas at most (the fifth cut to "word"), then the closing chunk.
    expect(texts.length).toBeLessThanOrEqual(6);
    expect(finish).toBe("length");
    expect(usage?.completion_tokens).toBe(5);
  });
});

describe("a malformed frame about a live assignment ends it", () => {
  const badUsage = { prompt_tokens: -1, completion_tokens: 1.5 };

  it("alone, the task fails at once (502 task_failed, not a 504 at the timeout)", async () => {
    t = await startTestRouter({}, 0);
    const raw = await t.addRaw("held");
    const r = await answerWith(
      raw,
      { prompt: "x", timeout: 20, precommit_timeout: 10 },
      commitFrames("x", badUsage),
    );
    expect(r.status, JSON.stringify(r.body)).toBe(502);
    expect(r.body).toMatchObject({
      error: {
        code: "task_failed",
        details: {
          failures: [{ miner_id: raw.id, reason: expect.stringMatching(/^invalid frame/) }],
        },
      },
    });
    expect(raw.errors.some((e) => e.startsWith("invalid frame"))).toBe(true);
    expect(raw.cancels).toHaveLength(1);
  });

  it("another miner gets the task; a broken frame naming someone else's assignment changes nothing", async () => {
    t = await startTestRouter({}, 0);
    const raw = await t.addRaw("held");
    const other = await t.addRaw("held", { text: " honest" });
    const res = t.post("/api/v1/completions/0", { prompt: "x", timeout: 20 });
    await waitFor(() => raw.tasks.length + other.tasks.length === 1);
    const [first, second] = raw.tasks.length === 1 ? [raw, other] : [other, raw];
    const aid = first.tasks[0]?.assignment_id ?? "";
    // The idle miner cannot end the other's assignment with a broken frame.
    second.send({ type: "commit", assignment_id: aid, text: 5, finish_reason: "stop" });
    await waitFor(() => second.errors.length === 1);
    expect(t.node.core.miners.get(first.id)?.active.size).toBe(1);
    first.send({
      type: "commit",
      assignment_id: aid,
      text: "x",
      finish_reason: "stop",
      usage: badUsage,
    });
    await waitFor(() => second.tasks.length === 1);
    second.release();
    const r = completion({ status: (await res).status, body: await (await res).json() });
    expect(r.miners?.map((m) => m.status)).toEqual([
      expect.stringMatching(/^failed: invalid frame/),
      "committed",
    ]);
  });
});

describe("streamed text and the commit", () => {
  it("token frames after a precommit are not forwarded; the committed text follows", async () => {
    t = await startTestRouter({}, 0);
    const raw = await t.addRaw("held");
    const res = await answerRaw(raw, { prompt: "x", stream: true }, (aid) => [
      { type: "token", assignment_id: aid, text: " fine" },
      { type: "precommit", assignment_id: aid, hash: sha256Hex(" fine words") },
      { type: "token", assignment_id: aid, text: " EVIL TEXT" },
      { type: "commit", assignment_id: aid, text: " fine words", finish_reason: "stop" },
    ]);
    const { texts, finish } = await chunks(res);
    expect(texts).toEqual([" fine", " words"]);
    expect(finish).toBe("stop");
  });

  it("a commit that differs from what was streamed is an error saying so, not a reassignment", async () => {
    t = await startTestRouter({}, 0);
    const raw = await t.addRaw("held");
    const res = await answerRaw(raw, { prompt: "x", stream: true }, (aid) => [
      { type: "token", assignment_id: aid, text: "EVIL TEXT" },
      ...commitFrames(" the real answer")(aid),
    ]);
    const events = await readSse(res);
    expect(events.at(-1)).toBe("[DONE]");
    const last = JSON.parse(events.at(-2) ?? "{}") as { error?: { message?: string } };
    expect(last).toMatchObject({ error: { code: "task_failed" } });
    expect(last.error?.message).toMatch(/committed answer differs from the text it streamed/);
    expect(last.error?.message).not.toMatch(/reassigned/);
  });
});
