import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import pino, { type Logger } from "pino";
import WebSocket from "ws";
import { sha256Hex } from "../core/tokens.js";
import { type MinerMessage, RouterMessage, type RouterTaskMessage } from "../protocol.js";
import { DemoEngine } from "./engines/demo.js";
import { OpenAiEngine, type OpenAiEngineOptions } from "./engines/openai.js";
import type { MinerEngine } from "./engines/types.js";

export { DEMO_VOCABULARY, DemoEngine, demoWords } from "./engines/demo.js";
export { OpenAiEngine, type OpenAiEngineOptions } from "./engines/openai.js";
export type { EngineRequest, EngineResult, MinerEngine } from "./engines/types.js";

export interface MinerOptions {
  routerWsUrl: string;
  token?: string;
  id?: string;
  engine?: "demo" | "openai" | MinerEngine;
  models?: string[];
  capacity?: number;
  logger?: Logger;
  demo?: { tokenDelayMs?: number };
  /** Required when engine is "openai". */
  openai?: OpenAiEngineOptions;
  /** Reconnect backoff bounds (ms); defaults 100 and 5000. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
}

export interface MinerHandle {
  id: string;
  close(): Promise<void>;
}

/** The router refused this miner (bad token): retrying would not help. */
export class MinerRejectedError extends Error {
  override name = "MinerRejectedError";
}

function buildEngine(opts: MinerOptions): MinerEngine {
  const e = opts.engine ?? "demo";
  if (typeof e !== "string") return e;
  if (e === "demo") return new DemoEngine(opts.demo?.tokenDelayMs ?? 3);
  if (opts.openai === undefined)
    throw new Error('engine "openai" needs the openai options (baseUrl)');
  return new OpenAiEngine(opts.openai);
}

/** A blob URN's content-address: the sha256 (hex) its file name carries, if any. */
const URN_SHA256 = /:([0-9a-f]{64})\.txt$/;

/**
 * The content the router pushed with a task for `urn`, when it hashes to the URN's file name;
 * undefined otherwise (nothing pushed, not content-addressed, or tampered), and the miner fetches.
 */
export function pushedBlob(urn: string, content: string | undefined): string | undefined {
  if (content === undefined) return undefined;
  const want = URN_SHA256.exec(urn)?.[1];
  return want !== undefined && sha256Hex(content) === want ? content : undefined;
}

/** Connect a miner to a router; resolves once the router accepted the hello. */
export function startMiner(opts: MinerOptions): Promise<MinerHandle> {
  const id = opts.id ?? `miner-${randomBytes(4).toString("hex")}`;
  const engine = buildEngine(opts);
  const log = (opts.logger ?? pino({ level: "silent" })).child({ miner: id });
  const capacity = opts.capacity ?? 1;
  const models = opts.models ?? ["demo"];
  const initialDelay = opts.reconnect?.initialDelayMs ?? 100;
  const maxDelay = opts.reconnect?.maxDelayMs ?? 5000;
  const running = new Map<string, AbortController>();
  const blobWaiters = new Map<string, (m: Extract<RouterMessage, { type: "blob" }>) => void>();
  let closed = false;
  let ws: WebSocket | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let delay = initialDelay;
  let accepted = false;

  return new Promise<MinerHandle>((resolveStart, rejectStart) => {
    const handle: MinerHandle = {
      id,
      close: async () => {
        closed = true;
        clearTimeout(reconnectTimer);
        clearInterval(heartbeat);
        for (const ac of running.values()) ac.abort();
        const sock = ws;
        if (sock !== undefined && sock.readyState !== WebSocket.CLOSED) {
          await new Promise<void>((resolve) => {
            sock.once("close", () => resolve());
            sock.close(1000, "miner closing");
            setTimeout(() => {
              sock.terminate();
              resolve();
            }, 1000).unref();
          });
        }
      },
    };

    const connect = (): void => {
      if (closed) return;
      const sock = new WebSocket(opts.routerWsUrl, {
        headers: { Authorization: `Bearer ${opts.token ?? "default-miner-token"}` },
      });
      ws = sock;
      /** Send frames; several at once go out in one TCP write (one wake-up for the router). */
      const send = (...msgs: MinerMessage[]): void => {
        if (sock.readyState !== WebSocket.OPEN) return;
        const raw = msgs.length > 1 ? (sock as { _socket?: Socket })._socket : undefined;
        raw?.cork();
        for (const msg of msgs) sock.send(JSON.stringify(msg));
        raw?.uncork();
      };
      sock.on("open", () => {
        send({
          type: "hello",
          miner_id: id,
          models,
          capacity,
          engine: engine.name,
          version: "0.1.0",
        });
      });
      sock.on("unexpected-response", (_req, res) => {
        const status = res.statusCode ?? 0;
        log.error({ status }, "router refused the miner connection");
        if (status === 401 && !accepted) {
          closed = true;
          rejectStart(
            new MinerRejectedError(`router refused miner ${id}: HTTP 401 (bad miner token)`),
          );
        }
        sock.terminate();
      });
      sock.on("message", (data) => {
        let msg: RouterMessage;
        try {
          msg = RouterMessage.parse(JSON.parse(String(data)));
        } catch {
          log.warn("ignored an invalid frame from the router");
          return;
        }
        switch (msg.type) {
          case "welcome":
            delay = initialDelay;
            clearInterval(heartbeat);
            heartbeat = setInterval(() => send({ type: "heartbeat" }), msg.heartbeat_interval_ms);
            heartbeat.unref();
            if (!accepted) {
              accepted = true;
              resolveStart(handle);
            }
            log.info("connected to router");
            return;
          case "task":
            void runTask(msg, send);
            return;
          case "cancel":
            running.get(msg.assignment_id)?.abort();
            return;
          case "blob":
            blobWaiters.get(msg.request_id)?.(msg);
            return;
          case "error":
            log.warn({ message: msg.message }, "router reported an error");
            return;
        }
      });
      sock.on("error", (err) => log.warn({ err: err.message }, "miner socket error"));
      sock.on("close", () => {
        clearInterval(heartbeat);
        // The router reassigns whatever this connection was running.
        for (const ac of running.values()) ac.abort();
        if (closed) return;
        reconnectTimer = setTimeout(connect, delay);
        delay = Math.min(delay * 2, maxDelay);
      });
    };

    const fetchBlob = (urn: string, send: (...m: MinerMessage[]) => void): Promise<string> =>
      new Promise((resolve, reject) => {
        const requestId = randomBytes(6).toString("hex");
        const timer = setTimeout(() => {
          blobWaiters.delete(requestId);
          reject(new Error(`blob fetch timed out: ${urn}`));
        }, 30_000);
        blobWaiters.set(requestId, (m) => {
          clearTimeout(timer);
          blobWaiters.delete(requestId);
          if (m.content !== undefined) resolve(m.content);
          else reject(new Error(m.error ?? "blob not found"));
        });
        send({ type: "fetch_blob", request_id: requestId, urn });
      });

    const runTask = async (msg: RouterTaskMessage, send: (...m: MinerMessage[]) => void) => {
      const aid = msg.assignment_id;
      if (running.size >= capacity) {
        send({ type: "fail", assignment_id: aid, message: "miner at capacity" });
        return;
      }
      const ac = new AbortController();
      running.set(aid, ac);
      send({ type: "ack", assignment_id: aid });
      try {
        const prompt =
          msg.prompt ??
          (msg.prompt_urn !== undefined
            ? (pushedBlob(msg.prompt_urn, msg.prompt_blob) ??
              (await fetchBlob(msg.prompt_urn, send)))
            : undefined);
        if (prompt === undefined) throw new Error("task has neither prompt nor prompt_urn");
        const p = msg.params;
        const result = await engine.generate(
          {
            model: msg.model,
            prompt,
            max_tokens: p.max_tokens,
            temperature: p.temperature,
            top_p: p.top_p,
            top_k: p.top_k,
            presence_penalty: p.presence_penalty,
            frequency_penalty: p.frequency_penalty,
            stop: p.stop,
          },
          (text) => {
            if (msg.stream !== false) send({ type: "token", assignment_id: aid, text });
          },
          ac.signal,
        );
        if (ac.signal.aborted) return;
        send(
          { type: "precommit", assignment_id: aid, hash: sha256Hex(result.text) },
          {
            type: "commit",
            assignment_id: aid,
            text: result.text,
            finish_reason: result.finish_reason,
            ...(result.usage !== undefined && { usage: result.usage }),
          },
        );
      } catch (err) {
        if (!ac.signal.aborted) {
          const message = err instanceof Error ? err.message : String(err);
          log.warn({ assignment: aid, err: message }, "task failed");
          send({ type: "fail", assignment_id: aid, message: message.slice(0, 2000) });
        }
      } finally {
        running.delete(aid);
      }
    };

    connect();
  });
}
