import { RouterCompletionResponse } from "@portal/contracts";
import { afterEach, describe, expect, it } from "vitest";
import { type RawMiner, startTestRouter, type TestRouter, waitFor } from "../testing/harness.js";
import { countTokens, sha256Hex } from "./tokens.js";

// What a dishonest miner can send about its own work, and what the router makes of it.

let t: TestRouter | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** Post a completion to a "held" raw miner and answer its task with `frames` instead. */
async function answerWith(
  raw: RawMiner,
  body: Record<string, unknown>,
  frames: (aid: string) => unknown[],
): Promise<{ status: number; body: unknown }> {
  if (t === undefined) throw new Error("no router");
  const seen = raw.tasks.length;
  const res = t.post("/api/v1/completions/0", body);
  await waitFor(() => raw.tasks.length > seen);
  const aid = raw.tasks[seen]?.assignment_id ?? "";
  for (const f of frames(aid)) raw.send(f);
  const r = await res;
  return { status: r.status, body: await r.json() };
}

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
