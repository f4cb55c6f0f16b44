import pino from "pino";
import WebSocket from "ws";
import { sha256Hex } from "../core/tokens.js";
import { type MinerHandle, type MinerOptions, startMiner } from "../miner/index.js";
import { type RouterNodeHandle, type RouterNodeOptions, startRouterNode } from "../node.js";
import { RouterMessage, type RouterTaskMessage } from "../protocol.js";

export const API_KEY = "default-dev-token";
export const AUTH = { Authorization: `Bearer ${API_KEY}` } as const;

/** A router node on an ephemeral loopback port plus the miners started against it. */
export interface TestRouter {
  node: RouterNodeHandle;
  miners: MinerHandle[];
  raw: RawMiner[];
  addMiners(n: number, opts?: Partial<MinerOptions>): Promise<MinerHandle[]>;
  addRaw(behaviour: RawBehaviour, opts?: Partial<RawMinerOptions>): Promise<RawMiner>;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

let minerSeq = 0;

/** Start a router (port 0, silent logs) with `demoMiners` demo miners (no token delay). */
export async function startTestRouter(
  opts: RouterNodeOptions = {},
  demoMiners = 0,
): Promise<TestRouter> {
  const node = await startRouterNode({ port: 0, logger: pino({ level: "silent" }), ...opts });
  const t: TestRouter = {
    node,
    miners: [],
    raw: [],
    async addMiners(n, mopts = {}) {
      const started = await Promise.all(
        Array.from({ length: n }, () =>
          startMiner({
            routerWsUrl: node.wsUrl,
            id: `demo-${++minerSeq}`,
            demo: { tokenDelayMs: 0 },
            ...mopts,
          }),
        ),
      );
      t.miners.push(...started);
      return started;
    },
    async addRaw(behaviour, ropts = {}) {
      const m = await RawMiner.connect(node.wsUrl, behaviour, ropts);
      t.raw.push(m);
      return m;
    },
    post: (path, body, headers = {}) =>
      fetch(`${node.url}${path}`, {
        method: "POST",
        headers: { ...AUTH, "Content-Type": "application/json", ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      }),
    get: (path, headers = AUTH) => fetch(`${node.url}${path}`, { headers }),
    async close() {
      await Promise.all(t.miners.map((m) => m.close()));
      for (const r of t.raw) r.close();
      await node.close();
    },
  };
  if (demoMiners > 0) await t.addMiners(demoMiners);
  return t;
}

/**
 * How a hand-rolled miner treats a task:
 * - honest: ack, precommit, commit `text`
 * - bad-commit: precommit one text, commit another
 * - no-precommit: ack and then stay silent about the task
 * - no-commit: ack and precommit, never commit
 * - disconnect: ack, send a token, then drop the connection
 * - mute: ack, then stop heart-beating and answering entirely (socket stays open)
 * - held: ack, then wait until the test calls `release()`, which precommits and commits
 */
export type RawBehaviour =
  | "honest"
  | "bad-commit"
  | "no-precommit"
  | "no-commit"
  | "disconnect"
  | "mute"
  | "held";

export interface RawMinerOptions {
  id: string;
  token: string;
  models: string[];
  capacity: number;
  text: string;
  /** What a "disconnect" miner streams before dropping. */
  partial: string;
  heartbeat: boolean;
}

/** A miner speaking the protocol by hand, misbehaving on purpose. */
export class RawMiner {
  readonly tasks: RouterTaskMessage[] = [];
  readonly cancels: string[] = [];
  readonly errors: string[] = [];
  /** `blob` answers to this miner's `fetch_blob` requests, by request id. */
  readonly blobs = new Map<string, { content?: string | undefined; error?: string | undefined }>();
  private readonly held: string[] = [];
  private heartbeat: NodeJS.Timeout | undefined;

  private constructor(
    readonly ws: WebSocket,
    readonly id: string,
    private readonly behaviour: RawBehaviour,
    private readonly opts: RawMinerOptions,
  ) {}

  /** Connect, say hello and wait for the welcome. */
  static connect(url: string, behaviour: RawBehaviour, partial: Partial<RawMinerOptions> = {}) {
    const opts: RawMinerOptions = {
      id: `raw-${++minerSeq}`,
      token: "default-miner-token",
      models: ["demo"],
      capacity: 1,
      text: " raw answer",
      partial: " partial",
      heartbeat: true,
      ...partial,
    };
    const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${opts.token}` } });
    const miner = new RawMiner(ws, opts.id, behaviour, opts);
    return new Promise<RawMiner>((resolve, reject) => {
      ws.once("error", reject);
      ws.on("open", () =>
        miner.send({
          type: "hello",
          miner_id: opts.id,
          models: opts.models,
          capacity: opts.capacity,
          engine: `raw-${behaviour}`,
        }),
      );
      ws.on("message", (data) => {
        const msg = RouterMessage.parse(JSON.parse(String(data)));
        if (msg.type === "welcome") {
          if (opts.heartbeat) {
            miner.heartbeat = setInterval(
              () => miner.send({ type: "heartbeat" }),
              msg.heartbeat_interval_ms,
            );
          }
          resolve(miner);
        } else if (msg.type === "task") miner.onTask(msg);
        else if (msg.type === "cancel") miner.cancels.push(msg.assignment_id);
        else if (msg.type === "error") miner.errors.push(msg.message);
        else if (msg.type === "blob") {
          miner.blobs.set(msg.request_id, { content: msg.content, error: msg.error });
        }
      });
    });
  }

  /** Send any value as a JSON frame. */
  send(value: unknown): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(value));
  }

  /** Send raw text (garbage on purpose). */
  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  /** Finish the oldest held task (behaviour "held"), or every held task with `all`. */
  release(all = false): void {
    const ids = all ? this.held.splice(0) : this.held.splice(0, 1);
    for (const aid of ids) {
      const text = this.opts.text;
      this.send({ type: "precommit", assignment_id: aid, hash: sha256Hex(text) });
      this.send({ type: "commit", assignment_id: aid, text, finish_reason: "stop" });
    }
  }

  /** Stop heart-beating. */
  stopHeartbeat(): void {
    clearInterval(this.heartbeat);
  }

  /** Close the socket. */
  close(): void {
    this.stopHeartbeat();
    this.ws.terminate();
  }

  /** Resolves when the socket is closed (by either side). */
  closed(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => this.ws.once("close", () => resolve()));
  }

  private onTask(task: RouterTaskMessage): void {
    this.tasks.push(task);
    const aid = task.assignment_id;
    const text = this.opts.text;
    this.send({ type: "ack", assignment_id: aid });
    switch (this.behaviour) {
      case "honest":
        this.send({ type: "token", assignment_id: aid, text });
        this.send({ type: "precommit", assignment_id: aid, hash: sha256Hex(text) });
        this.send({ type: "commit", assignment_id: aid, text, finish_reason: "stop" });
        return;
      case "bad-commit":
        this.send({ type: "precommit", assignment_id: aid, hash: sha256Hex(text) });
        this.send({
          type: "commit",
          assignment_id: aid,
          text: `${text} (tampered)`,
          finish_reason: "stop",
        });
        return;
      case "no-commit":
        this.send({ type: "precommit", assignment_id: aid, hash: sha256Hex(text) });
        return;
      case "disconnect":
        this.send({ type: "token", assignment_id: aid, text: this.opts.partial });
        setTimeout(() => this.close(), 20);
        return;
      case "mute":
        this.stopHeartbeat();
        return;
      case "no-precommit":
        return;
      case "held":
        this.held.push(aid);
        return;
    }
  }
}

/** Read an SSE body into its `data:` payloads. */
export async function readSse(res: Response): Promise<string[]> {
  const text = await res.text();
  return text
    .split("\n\n")
    .map((e) => e.trim())
    .filter((e) => e.startsWith("data: "))
    .map((e) => e.slice("data: ".length));
}

/** Poll until `check` returns true (or throw after `ms`). */
export async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
