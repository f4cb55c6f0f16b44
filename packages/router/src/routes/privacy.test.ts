import { createDecipheriv } from "node:crypto";
import { RouterCompletionResponse, RouterErrorBody } from "@portal/contracts";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RouterConfig } from "../config.js";
import { keyMessage } from "../core/privacy/issuer.js";
import { PayloadKeyring } from "../core/privacy/keyring.js";
import { demoWords } from "../miner/engines/demo.js";
import { readSse, startTestRouter, type TestRouter, waitFor } from "../testing/harness.js";

const alice = privateKeyToAccount(generatePrivateKey());
const bob = privateKeyToAccount(generatePrivateKey());
const carol = privateKeyToAccount(generatePrivateKey());
const SEED = "test-encryption-seed-0123456789";

const config: RouterConfig = {
  sessions: [
    { id: 0, model: "demo", mode: "ephemeral" },
    { id: 68, model: "demo", mode: "dedicated", miners: ["private-miner"], private: true },
  ],
  default_session_id: 0,
  // alice: the whole session 68; bob: only task 0 of session 68.
  privacy: { allowed_list: `68:${alice.address.toLowerCase()};68-0:${bob.address}` },
};

let t: TestRouter;
beforeAll(async () => {
  t = await startTestRouter({ config, encryptionSeed: SEED }, 0);
  await t.addMiners(1, { id: "private-miner" });
});
afterAll(() => t.close());

const post = (path: string, body: unknown) =>
  fetch(`${t.node.url}${path}`, { method: "POST", body: JSON.stringify(body) });

async function err(res: Response, status: number, code: string): Promise<RouterErrorBody> {
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(status);
  const parsed = RouterErrorBody.parse(body);
  expect(parsed.error.code).toBe(code);
  return parsed;
}

function openWith(keyB64: string, sealed: string): string {
  const { scope, body } = PayloadKeyring.parse(sealed);
  const raw = Buffer.from(body, "base64");
  const d = createDecipheriv("aes-256-gcm", Buffer.from(keyB64, "base64"), raw.subarray(0, 12));
  d.setAAD(Buffer.from(scope));
  d.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString("utf8");
}

describe("private sessions: sealed payloads", () => {
  it("v3 prompts and results are stored AES-256-GCM sealed; miners still get the plaintext; stream is off", async () => {
    const res = await t.post("/api/v3/completions/68", { prompt: "secret prompt", stream: true });
    expect(res.headers.get("content-type")).toContain("application/json");
    const r = RouterCompletionResponse.parse(await res.json());
    // The miner answered the plaintext prompt (the demo engine's text is a function of it).
    const words = demoWords({ model: "demo", prompt: "secret prompt", max_tokens: 256 }).words;
    expect(r.choices[0]?.text).toBe(words.map((w) => ` ${w}`).join(""));
    const task = (await (await t.get(`/api/v1/tasks/68/${r.task_id}`)).json()) as {
      prompt: string | null;
      prompt_urn: string;
      result_urn: string | null;
      stream: boolean;
    };
    expect(task).toMatchObject({ prompt: null, stream: false });
    const storedPrompt = await t.node.core.blobs.get(task.prompt_urn);
    expect(storedPrompt.startsWith("enc:v1:s68:")).toBe(true);
    expect(storedPrompt).not.toContain("secret prompt");
    await expect
      .poll(
        async () =>
          (
            (await (await t.get(`/api/v1/tasks/68/${r.task_id}`)).json()) as {
              result_urn: string | null;
            }
          ).result_urn,
      )
      .not.toBeNull();
    const detail = (await (await t.get(`/api/v1/tasks/68/${r.task_id}`)).json()) as {
      result_urn: string;
    };
    const storedResult = await t.node.core.blobs.get(detail.result_urn);
    expect(storedResult.startsWith(`enc:v1:t68-${r.task_id}:`)).toBe(true);
    // alice gets the session key and opens the prompt; the task key opens the result.
    const sKey = await post("/api/v1/auth/payload_enc_key/session", {
      address: alice.address,
      session_id: 68,
      signature: await alice.signMessage({ message: "68" }),
    });
    const session = (await sKey.json()) as { key: string; algorithm: string };
    expect(session.algorithm).toBe("AES-256-GCM");
    expect(openWith(session.key, storedPrompt)).toBe("secret prompt");
    const tKey = await post("/api/v1/auth/payload_enc_key/task", {
      address: alice.address,
      session_id: 68,
      task_id: r.task_id,
      signature: await alice.signMessage({ message: `68:${r.task_id}` }),
    });
    expect(openWith(((await tKey.json()) as { key: string }).key, storedResult)).toBe(
      r.choices[0]?.text,
    );
  });

  it("a sealed prompt is opened only for a miner working on that session", async () => {
    const r = RouterCompletionResponse.parse(
      await (
        await t.post("/api/v2/completions/68", { prompt: "for the session miner only" })
      ).json(),
    );
    const task = (await (await t.get(`/api/v1/tasks/68/${r.task_id}`)).json()) as {
      prompt_urn: string;
    };
    const outsider = await t.addRaw("honest", { id: "outsider" });
    outsider.send({ type: "fetch_blob", request_id: "peek", urn: task.prompt_urn });
    await waitFor(() => outsider.blobs.has("peek"));
    expect(outsider.blobs.get("peek")).toMatchObject({ content: undefined });
    expect(outsider.blobs.get("peek")?.error).toContain("not available");
  });

  it("streaming requests on a private session get a plain JSON answer, not SSE", async () => {
    const res = await t.post("/api/v1/completions/68", { prompt: "s", stream: true });
    expect(await readSse(res.clone())).toEqual([]);
    RouterCompletionResponse.parse(await res.json());
  });
});

describe("payload_enc_key routes", () => {
  it("issues the session key to an allow-listed wallet (seed curl shape, no router key)", async () => {
    const res = await post("/api/v1/auth/payload_enc_key/session", {
      address: alice.address,
      session_id: 68,
      signature: await alice.signMessage({
        message: keyMessage({
          scope: "session",
          sessionId: 68,
          timestamp: Math.floor(Date.now() / 1000),
        }),
      }),
      timestamp: Math.floor(Date.now() / 1000),
    });
    const body = (await res.json()) as { key: string };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(body).toMatchObject({
      address: alice.address,
      session_id: 68,
      task_id: null,
      scope: "session",
      key_version: "v1",
    });
    expect(Buffer.from(body.key, "base64")).toHaveLength(32);
  });

  it("a task-scoped wallet gets only its task's key", async () => {
    const ok = await post("/api/v1/auth/payload_enc_key/task", {
      address: bob.address,
      session_id: 68,
      task_id: 0,
      signature: await bob.signMessage({ message: "68:0" }),
    });
    expect(ok.status).toBe(200);
    await err(
      await post("/api/v1/auth/payload_enc_key/session", {
        address: bob.address,
        session_id: 68,
        signature: await bob.signMessage({ message: "68" }),
      }),
      403,
      "forbidden",
    );
  });

  it("a replayed signature is refused; a fresh timestamped one works", async () => {
    const body = {
      address: alice.address,
      session_id: 68,
      task_id: 1,
      signature: await alice.signMessage({ message: "68:1" }),
    };
    expect((await post("/api/v1/auth/payload_enc_key/task", body)).status).toBe(200);
    const e = await err(
      await post("/api/v1/auth/payload_enc_key/task", body),
      401,
      "invalid_signature",
    );
    expect(e.error.message).toContain("already used");
    const ts = Math.floor(Date.now() / 1000);
    const fresh = await post("/api/v1/auth/payload_enc_key/task", {
      ...body,
      timestamp: ts,
      signature: await alice.signMessage({ message: `payload_enc_key:task:68:1:${ts}` }),
    });
    expect(fresh.status).toBe(200);
    const stale = ts - 3600;
    await err(
      await post("/api/v1/auth/payload_enc_key/task", {
        ...body,
        timestamp: stale,
        signature: await alice.signMessage({ message: `payload_enc_key:task:68:1:${stale}` }),
      }),
      401,
      "invalid_signature",
    );
  });

  it("wrong signature 401, wallet not on the list 403, malformed 400, unknown session/task 404, public session 400", async () => {
    await err(
      await post("/api/v1/auth/payload_enc_key/session", {
        address: alice.address,
        session_id: 68,
        signature: await carol.signMessage({ message: "68" }),
      }),
      401,
      "invalid_signature",
    );
    await err(
      await post("/api/v1/auth/payload_enc_key/session", {
        address: carol.address,
        session_id: 68,
        signature: await carol.signMessage({ message: "68" }),
      }),
      403,
      "forbidden",
    );
    await err(
      await post("/api/v1/auth/payload_enc_key/session", {
        address: alice.address,
        session_id: 68,
        signature: "0x1234",
      }),
      400,
      "invalid_request",
    );
    await err(
      await post("/api/v1/auth/payload_enc_key/session", {
        address: "nope",
        session_id: 68,
        signature: `0x${"ab".repeat(65)}`,
      }),
      400,
      "invalid_request",
    );
    await err(
      await post("/api/v1/auth/payload_enc_key/session", { address: alice.address }),
      400,
      "invalid_request",
    );
    await err(
      await post("/api/v1/auth/payload_enc_key/session", {
        address: alice.address,
        session_id: 999,
        signature: await alice.signMessage({ message: "999" }),
      }),
      404,
      "session_not_found",
    );
    await err(
      await post("/api/v1/auth/payload_enc_key/task", {
        address: alice.address,
        session_id: 68,
        task_id: 4242,
        signature: await alice.signMessage({ message: "68:4242" }),
      }),
      404,
      "task_not_found",
    );
    await err(
      await post("/api/v1/auth/payload_enc_key/session", {
        address: alice.address,
        session_id: 0,
        signature: await alice.signMessage({ message: "0" }),
      }),
      400,
      "invalid_request",
    );
  });

  it("without ENCRYPTION_SEED the key routes are 404", async () => {
    const off = await startTestRouter({ config }, 0);
    try {
      const res = await fetch(`${off.node.url}/api/v1/auth/payload_enc_key/session`, {
        method: "POST",
        body: JSON.stringify({
          address: alice.address,
          session_id: 68,
          signature: await alice.signMessage({ message: "68" }),
        }),
      });
      expect(res.status).toBe(404);
    } finally {
      await off.close();
    }
  });
});
