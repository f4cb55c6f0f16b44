import { RouterCompletionResponse } from "@portal/contracts";
import { afterEach, describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import { makeUrn } from "../core/blob-store.js";
import { sha256Hex } from "../core/tokens.js";
import { MinerMessage, PROTOCOL_VERSION, type RouterMessage } from "../protocol.js";
import { startTestRouter, type TestRouter, waitFor } from "../testing/harness.js";
import { demoWords } from "./engines/demo.js";
import { type MinerHandle, pushedBlob, startMiner } from "./index.js";

const demoText = (prompt: string, maxTokens: number): string =>
  demoWords({ model: "demo", prompt, max_tokens: maxTokens })
    .words.map((w) => ` ${w}`)
    .join("");
const urnOf = (content: string): string => makeUrn(3, "mem", `${sha256Hex(content)}.txt`);

describe("pushedBlob (miner side check of a pushed prompt)", () => {
  it("accepts content that hashes to the URN's file name", () => {
    expect(pushedBlob(urnOf("hello"), "hello")).toBe("hello");
    expect(pushedBlob(makeUrn(2, "fs", `${sha256Hex("")}.txt`), "")).toBe("");
  });

  it("refuses tampered content, URNs that are not content-addressed, and no content", () => {
    expect(pushedBlob(urnOf("hello"), "hello!")).toBeUndefined();
    expect(pushedBlob("urn:blob:v3:custom:0:prompts:whatever.txt", "hello")).toBeUndefined();
    expect(pushedBlob(urnOf("hello"), undefined)).toBeUndefined();
  });
});

describe("router push of plain prompt blobs with the task", () => {
  let t: TestRouter | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it("a plain v3 task carries the URN and its content; an old miner can still fetch the URN", async () => {
    t = await startTestRouter({}, 0);
    const raw = await t.addRaw("held");
    const pending = t.post("/api/v3/completions/0", { prompt: "pushed prompt" });
    await waitFor(() => raw.tasks.length === 1);
    const task = raw.tasks[0];
    expect(task?.prompt).toBeUndefined();
    expect(task?.prompt_urn).toBe(urnOf("pushed prompt"));
    expect(task?.prompt_blob).toBe("pushed prompt");
    // The blob store still holds it, and fetch_blob (what a miner ignoring the push does) works.
    await expect(t.node.core.blobs.get(task?.prompt_urn ?? "")).resolves.toBe("pushed prompt");
    raw.send({ type: "fetch_blob", request_id: "old", urn: task?.prompt_urn });
    await waitFor(() => raw.blobs.has("old"));
    expect(raw.blobs.get("old")?.content).toBe("pushed prompt");
    raw.release();
    expect((await pending).status).toBe(200);
  });

  it("a private session's task carries only the URN (its sealed blob is never pushed)", async () => {
    t = await startTestRouter(
      {
        config: {
          sessions: [
            { id: 0, model: "demo", mode: "ephemeral" },
            { id: 68, model: "demo", mode: "dedicated", miners: ["sealed-raw"], private: true },
          ],
          default_session_id: 0,
        },
        encryptionSeed: "test-encryption-seed-0123456789",
      },
      0,
    );
    const raw = await t.addRaw("held", { id: "sealed-raw" });
    const pending = t.post("/api/v3/completions/68", { prompt: "private prompt" });
    await waitFor(() => raw.tasks.length === 1);
    expect(raw.tasks[0]?.prompt_urn).toBeDefined();
    expect(raw.tasks[0]?.prompt_blob).toBeUndefined();
    expect(JSON.stringify(raw.tasks[0])).not.toContain("private prompt");
    raw.release();
    expect((await pending).status).toBe(200);
  });

  it("demo miners answer from the pushed prompt, end to end", async () => {
    t = await startTestRouter({}, 1);
    const r = RouterCompletionResponse.parse(
      await (await t.post("/api/v3/completions/0", { prompt: "via push", max_tokens: 20 })).json(),
    );
    expect(r.choices[0]?.text).toBe(demoText("via push", 20));
  });
});

describe("miner: pushed blob verification against a scripted router", () => {
  let wss: WebSocketServer | undefined;
  let miner: MinerHandle | undefined;
  afterEach(async () => {
    await miner?.close();
    await new Promise<void>((r) => (wss === undefined ? r() : wss.close(() => r())));
    miner = undefined;
    wss = undefined;
  });

  /** A fake router that sends one task and records what the miner sends back. */
  async function runTask(pushed: string | undefined, stored: string) {
    const server = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    wss = server;
    await new Promise<void>((r) => server.once("listening", () => r()));
    const port = (server.address() as { port: number }).port;
    const frames: MinerMessage[] = [];
    const urn = urnOf(stored);
    const done = new Promise<Extract<MinerMessage, { type: "commit" }>>((resolve) => {
      server.on("connection", (ws: WebSocket) => {
        const send = (m: RouterMessage) => ws.send(JSON.stringify(m));
        ws.on("message", (data) => {
          const msg = MinerMessage.parse(JSON.parse(String(data)));
          frames.push(msg);
          if (msg.type === "hello") {
            send({
              type: "welcome",
              miner_id: msg.miner_id,
              heartbeat_interval_ms: 5000,
              protocol: PROTOCOL_VERSION,
            });
            send({
              type: "task",
              assignment_id: "0.0.0",
              session_id: 0,
              task_id: 0,
              model: "demo",
              prompt_urn: urn,
              ...(pushed !== undefined && { prompt_blob: pushed }),
              params: { max_tokens: 16 },
              stream: false,
            });
          } else if (msg.type === "fetch_blob") {
            send({ type: "blob", request_id: msg.request_id, urn: msg.urn, content: stored });
          } else if (msg.type === "commit") resolve(msg);
        });
      });
    });
    miner = await startMiner({
      routerWsUrl: `ws://127.0.0.1:${port}`,
      demo: { tokenDelayMs: 0 },
    });
    const commit = await done;
    return { commit, fetched: frames.filter((f) => f.type === "fetch_blob"), urn };
  }

  it("uses a pushed blob whose hash matches the URN without fetching it", async () => {
    const { commit, fetched } = await runTask("the real prompt", "the real prompt");
    expect(fetched).toEqual([]);
    expect(commit.text).toBe(demoText("the real prompt", 16));
  });

  it("refuses a tampered pushed blob and fetches the URN instead", async () => {
    const { commit, fetched, urn } = await runTask("a tampered prompt", "the real prompt");
    expect(fetched).toEqual([expect.objectContaining({ type: "fetch_blob", urn })]);
    expect(commit.text).toBe(demoText("the real prompt", 16));
    expect(commit.text).not.toBe(demoText("a tampered prompt", 16));
  });

  it("fetches the URN when nothing is pushed (routers without the push)", async () => {
    const { commit, fetched } = await runTask(undefined, "the real prompt");
    expect(fetched).toHaveLength(1);
    expect(commit.text).toBe(demoText("the real prompt", 16));
  });
});
