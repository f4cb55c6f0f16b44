import { RouterCompletionResponse, RouterErrorBody } from "@portal/contracts";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterEach, describe, expect, it } from "vitest";
import { offchainResultMessage } from "../core/offchain.js";
import { startTestRouter, type TestRouter, waitFor } from "../testing/harness.js";

const minerWallet = privateKeyToAccount(generatePrivateKey());
const stranger = privateKeyToAccount(generatePrivateKey());
const TEXT = " the off-chain answer";

let t: TestRouter | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function setup(): Promise<{ router: TestRouter; pending: Promise<Response> }> {
  const router = await startTestRouter(
    {
      config: {
        sessions: [{ id: 0, model: "demo", mode: "ephemeral" }],
        default_session_id: 0,
        offchain: { miners: { "offchain-miner": minerWallet.address } },
      },
    },
    0,
  );
  t = router;
  const raw = await router.addRaw("no-commit", { id: "offchain-miner", text: TEXT });
  const pending = router.post("/api/v3/completions/0", { prompt: "answer off-chain", timeout: 10 });
  // A test that never completes the task leaves this open until the router closes.
  pending.catch(() => {});
  await waitFor(() => raw.tasks.length === 1);
  await waitFor(() => router.node.core.tasks.get(0, 0).state === "precommitted");
  return { router, pending };
}

const post = (router: TestRouter, body: unknown) =>
  fetch(`${router.node.url}/api/v3/offchain/result`, {
    method: "POST",
    body: JSON.stringify(body),
  });

async function err(res: Response, status: number, code: string): Promise<RouterErrorBody> {
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(status);
  const parsed = RouterErrorBody.parse(body);
  expect(parsed.error.code).toBe(code);
  return parsed;
}

describe("POST /api/v3/offchain/result", () => {
  it("a registered miner's signed result commits the task (no router key needed)", async () => {
    const { router, pending } = await setup();
    const res = await post(router, {
      session_id: 0,
      task_id: 0,
      miner_id: "offchain-miner",
      result: TEXT,
      signature: await minerWallet.signMessage({ message: offchainResultMessage(0, 0, TEXT) }),
    });
    const body = (await res.json()) as Record<string, unknown>;
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ accepted: true, task_state: "closed" });
    expect(String(body.result_urn)).toMatch(/^urn:blob:v3:mem:0:prompts:/);
    const done = RouterCompletionResponse.parse(await (await pending).json());
    expect(done.choices[0]?.text).toBe(TEXT);
    // The same result again: the task is no longer waiting for it.
    await err(
      await post(router, {
        session_id: 0,
        task_id: 0,
        miner_id: "offchain-miner",
        result: TEXT,
        signature: await minerWallet.signMessage({ message: offchainResultMessage(0, 0, TEXT) }),
      }),
      409,
      "conflict",
    );
  });

  it("unsigned 401, signed by another wallet 401, signature over other text 401, unknown miner 403", async () => {
    const { router } = await setup();
    const base = { session_id: 0, task_id: 0, miner_id: "offchain-miner", result: TEXT };
    await err(await post(router, base), 401, "invalid_signature");
    await err(
      await post(router, {
        ...base,
        signature: await stranger.signMessage({ message: offchainResultMessage(0, 0, TEXT) }),
      }),
      401,
      "invalid_signature",
    );
    await err(
      await post(router, {
        ...base,
        signature: await minerWallet.signMessage({ message: offchainResultMessage(0, 0, "other") }),
      }),
      401,
      "invalid_signature",
    );
    await err(
      await post(router, {
        ...base,
        miner_id: "someone-else",
        signature: await stranger.signMessage({ message: offchainResultMessage(0, 0, TEXT) }),
      }),
      403,
      "forbidden",
    );
    await err(await post(router, { ...base, task_id: "x" }), 400, "invalid_request");
  });

  it("a result that does not match the precommit is refused (409) and the task fails", async () => {
    const { router, pending } = await setup();
    const other = " a different answer";
    await err(
      await post(router, {
        session_id: 0,
        task_id: 0,
        miner_id: "offchain-miner",
        result: other,
        signature: await minerWallet.signMessage({ message: offchainResultMessage(0, 0, other) }),
      }),
      409,
      "conflict",
    );
    expect((await pending).status).toBe(502);
    await err(
      await post(router, {
        session_id: 0,
        task_id: 7,
        miner_id: "offchain-miner",
        result: other,
        signature: await minerWallet.signMessage({ message: offchainResultMessage(0, 7, other) }),
      }),
      404,
      "task_not_found",
    );
  });
});
