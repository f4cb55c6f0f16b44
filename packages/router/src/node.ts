import type { IncomingMessage, Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import pino, { type Logger } from "pino";
import { WebSocketServer } from "ws";
import { createMcpApp, createRouterApp } from "./app.js";
import {
  defaultRouterConfig,
  loadRouterConfig,
  parseRouterConfig,
  type RouterConfig,
} from "./config.js";
import { type BlobStore, FsBlobStore, MemoryBlobStore } from "./core/blob-store.js";
import type { EvidenceProvider } from "./core/factcheck/evidence.js";
import { RouterCore } from "./core/router-core.js";
import { S3BlobStore } from "./core/s3-blob-store.js";
import type { Facilitator } from "./core/x402/facilitator.js";
import { bearerToken } from "./http/auth.js";
import { malformedRequestResponse } from "./http/errors.js";
import { createFetchServer } from "./http/fetch-server.js";

export const DEV_API_KEY = "default-dev-token";
export const DEV_MINER_TOKEN = "default-miner-token";
const WS_PATH = "/ws/miners";
const MAX_FRAME_BYTES = 16 * 1024 * 1024;

export interface RouterNodeOptions {
  host?: string;
  port?: number;
  apiKey?: string;
  minerToken?: string;
  config?: RouterConfig;
  configFile?: string;
  /** Root of the filesystem blob store; without it prompts are kept in a bounded in-memory store. */
  dataDir?: string;
  /** A blob store of its own (e.g. an S3BlobStore); wins over `dataDir`. */
  blobStore?: BlobStore;
  logger?: Logger;
  /** How often miners heart-beat (ms, default 5000). */
  heartbeatIntervalMs?: number;
  /** Silence after which a miner is dropped (ms, default 3 × the interval). */
  heartbeatTimeoutMs?: number;
  /** Finished tasks kept per session (default 2000). */
  taskRetention?: number;
  /** How long a task waits (FIFO) for a free miner when all are busy (ms, default 3000). */
  queueTimeoutMs?: number;
  /** See RouterCoreOptions.abandonGraceMs. */
  abandonGraceMs?: number;
  /** Age after which blobs no retained task refers to are swept (ms, default 24 h). */
  blobTtlMs?: number;
  /** How often that sweep runs (ms, default 1 h). */
  blobSweepIntervalMs?: number;
  /** Realtime factcheck evidence provider (e.g. TavilyEvidenceProvider). */
  evidenceProvider?: EvidenceProvider;
  /** x402 settlement (HttpFacilitator in production; default LocalFacilitator, dev only). */
  x402Facilitator?: Facilitator;
  /** ENCRYPTION_SEED (≥ 16 chars): payload-encryption keys and sealed private payloads. */
  encryptionSeed?: string;
  /** Largest request body accepted (bytes, default 4 MiB); larger ones are 413 `payload_too_large`. */
  maxBodyBytes?: number;
}

export interface RouterNodeHandle {
  url: string;
  wsUrl: string;
  port: number;
  /** The MCP endpoint when MCP has its own listener (`mcp.listen`). */
  mcpUrl?: string;
  /**
   * Graceful stop: refuse new tasks (503, readiness 503 `draining`), let accepted tasks and the
   * HTTP responses carrying them finish, then close. Past `timeoutMs` whatever is left is cut off.
   * Resolves `true` when everything finished inside the bound.
   */
  drain(opts?: { timeoutMs?: number }): Promise<boolean>;
  close(): Promise<void>;
  core: RouterCore;
}

/** Thrown when the node refuses to start (dev secrets on a public bind, bad config). */
export class RouterStartupError extends Error {
  override name = "RouterStartupError";
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return (
    h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h) || h === "::ffff:127.0.0.1"
  );
}

function resolveConfig(opts: RouterNodeOptions): RouterConfig {
  if (opts.config !== undefined) return parseRouterConfig(opts.config);
  if (opts.configFile !== undefined) return loadRouterConfig(opts.configFile);
  return defaultRouterConfig();
}

/** Start a router node: HTTP API plus the miner WebSocket on one port. */
export async function startRouterNode(opts: RouterNodeOptions = {}): Promise<RouterNodeHandle> {
  const host = opts.host ?? "127.0.0.1";
  const apiKey = opts.apiKey ?? DEV_API_KEY;
  const minerToken = opts.minerToken ?? DEV_MINER_TOKEN;
  if (!isLoopbackHost(host)) {
    if (apiKey === DEV_API_KEY) {
      throw new RouterStartupError(
        `refusing to bind ${host} with the dev API key "${DEV_API_KEY}": set a real API key`,
      );
    }
    if (minerToken === DEV_MINER_TOKEN) {
      throw new RouterStartupError(
        `refusing to bind ${host} with the dev miner token "${DEV_MINER_TOKEN}": set a real miner token`,
      );
    }
  }
  const config = resolveConfig(opts);
  const logger = opts.logger ?? pino({ level: "silent" });
  const blobStore: BlobStore =
    opts.blobStore ??
    (opts.dataDir !== undefined
      ? new FsBlobStore(opts.dataDir, {
          onWriteError: (err, file) =>
            logger.error({ err: err.message, file }, "blob write failed (served from memory)"),
        })
      : new MemoryBlobStore());
  const core = new RouterCore({
    config,
    apiKey,
    minerToken,
    blobStore,
    blobBackend:
      opts.blobStore instanceof S3BlobStore
        ? "s3"
        : opts.blobStore !== undefined
          ? "custom"
          : opts.dataDir !== undefined
            ? "fs"
            : "mem",
    logger,
    ...(opts.heartbeatIntervalMs !== undefined && {
      heartbeatIntervalMs: opts.heartbeatIntervalMs,
    }),
    ...(opts.heartbeatTimeoutMs !== undefined && { heartbeatTimeoutMs: opts.heartbeatTimeoutMs }),
    ...(opts.taskRetention !== undefined && { taskRetention: opts.taskRetention }),
    ...(opts.queueTimeoutMs !== undefined && { queueTimeoutMs: opts.queueTimeoutMs }),
    ...(opts.abandonGraceMs !== undefined && { abandonGraceMs: opts.abandonGraceMs }),
    ...(opts.blobTtlMs !== undefined && { blobTtlMs: opts.blobTtlMs }),
    ...(opts.evidenceProvider !== undefined && { evidenceProvider: opts.evidenceProvider }),
    ...(opts.x402Facilitator !== undefined && { x402Facilitator: opts.x402Facilitator }),
    ...(opts.encryptionSeed !== undefined && { encryptionSeed: opts.encryptionSeed }),
    ...(opts.maxBodyBytes !== undefined && { maxBodyBytes: opts.maxBodyBytes }),
    ...(opts.blobSweepIntervalMs !== undefined && {
      blobSweepIntervalMs: opts.blobSweepIntervalMs,
    }),
  });
  const app = createRouterApp(core);
  const server = createFetchServer(app.fetch, malformedRequestResponse);
  // In-flight HTTP exchanges (a task's answer is still being written after the task ends).
  let openRequests = 0;
  server.on("request", (_req, res) => {
    openRequests += 1;
    res.once("close", () => {
      openRequests -= 1;
    });
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });

  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    const url = new URL(req.url ?? "/", "http://router");
    if (url.pathname !== WS_PATH) return rejectUpgrade(socket, 404, "Not Found");
    const token = bearerToken(req.headers.authorization) ?? url.searchParams.get("token") ?? "";
    if (!core.verifyMinerToken(token)) return rejectUpgrade(socket, 401, "Unauthorized");
    wss.handleUpgrade(req, socket, head, (ws) => {
      const link = core.miners.attach({
        send: (data) => {
          if (ws.readyState === ws.OPEN) ws.send(data);
        },
        close: (code, reason) => ws.close(code, reason),
      });
      ws.on("message", (data, isBinary) => {
        if (isBinary) return link.receive("\u0000binary frame");
        link.receive(Array.isArray(data) ? Buffer.concat(data).toString("utf8") : data.toString());
      });
      ws.on("close", () => link.closed());
      ws.on("error", (err) => logger.warn({ err: err.message }, "miner socket error"));
    });
  });

  const port = await listen(server, opts.port ?? 5010, host);
  const urlHost = host.includes(":") ? `[${host}]` : host;
  logger.info({ host, port, sessions: core.sessions.size }, "router node listening");

  // MCP on its own listener when configured (the spec's 127.0.0.1:8001).
  const mcp = core.features.mcp;
  let mcpServer: Server | undefined;
  let mcpUrl: string | undefined;
  if (mcp?.enabled === true && mcp.listen !== undefined) {
    const mcpHost = mcp.listen.host;
    if (!isLoopbackHost(mcpHost) && apiKey === DEV_API_KEY) {
      server.closeAllConnections();
      server.close();
      throw new RouterStartupError(
        `refusing to bind MCP on ${mcpHost} with the dev API key "${DEV_API_KEY}": set a real API key`,
      );
    }
    mcpServer = createFetchServer(createMcpApp(core).fetch, malformedRequestResponse);
    const mcpPort = await listen(mcpServer, mcp.listen.port, mcpHost);
    mcpUrl = `http://${mcpHost.includes(":") ? `[${mcpHost}]` : mcpHost}:${mcpPort}${mcp.path}`;
    logger.info({ url: mcpUrl }, "router MCP listening");
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      core.close();
      await blobStore.flush?.();
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      for (const s of [server, mcpServer]) {
        if (s === undefined) continue;
        await new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        });
      }
    })();
    return closing;
  };
  const drain = async (drainOpts: { timeoutMs?: number } = {}): Promise<boolean> => {
    const deadline = Date.now() + (drainOpts.timeoutMs ?? 30_000);
    core.beginDrain();
    logger.info({ active: core.tasks.activeCount() }, "router node draining");
    let drained = false;
    while (Date.now() < deadline) {
      // Probes and refusals are requests too, but they end at once; in-flight tasks hold theirs.
      if (core.tasks.activeCount() === 0 && openRequests === 0) {
        drained = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    if (!drained) {
      logger.warn(
        { active: core.tasks.activeCount(), requests: openRequests },
        "drain bound exceeded; closing with work in flight",
      );
    }
    await close();
    return drained;
  };
  return {
    url: `http://${urlHost}:${port}`,
    wsUrl: `ws://${urlHost}:${port}${WS_PATH}`,
    port,
    ...(mcpUrl !== undefined && { mcpUrl }),
    core,
    drain,
    close,
  };
}

/** Listen on host:port; resolves with the bound port. */
async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

function rejectUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
