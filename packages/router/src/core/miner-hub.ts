import { parseJsonText } from "@portal/contracts";
import type { Logger } from "pino";
import { MinerMessage, PROTOCOL_VERSION, type RouterMessage } from "../protocol.js";
import type { BlobStore } from "./blob-store.js";
import type { Session } from "./sessions.js";

/** Why a miner's connection went when a new one said hello under its id. */
export const REPLACED = "replaced by a new connection";

/** The transport a miner connection runs over (a `ws` socket in production). */
export interface MinerSocket {
  send(data: string): void;
  close(code: number, reason: string): void;
}

/** Lifetime counters of a miner id (kept across reconnects). */
export interface MinerStats {
  assigned: number;
  completed: number;
  failed: number;
  latencyTotalMs: number;
  lastLatencyMs: number | null;
  /** Assignments failed or timed out since the last commit: how far `pick` ranks it down. */
  failStreak: number;
}

/** Past this many failures in a row a miner ranks as the worst: bounded, and one commit resets it. */
const FAIL_STREAK_CAP = 3;

/** A miner that said hello. */
export interface ConnectedMiner {
  id: string;
  engine: string;
  models: string[];
  capacity: number;
  version: string | undefined;
  connectedAt: number;
  lastSeenAt: number;
  lastAssignedAt: number;
  active: Set<string>;
  stats: MinerStats;
  socket: MinerSocket;
}

type MinerWorkMessage = Exclude<MinerMessage, { type: "hello" | "heartbeat" | "fetch_blob" }>;

/** What the hub reports to the dispatcher. */
export interface MinerEventHandler {
  onMinerMessage(miner: ConnectedMiner, msg: MinerWorkMessage): void;
  onMinerGone(miner: ConnectedMiner, reason: string): void;
  onMinerAvailable(): void;
  /** A frame naming `assignmentId` failed its schema (a protocol violation, also reported). */
  onMinerInvalidFrame(miner: ConnectedMiner, assignmentId: string, why: string): void;
}

/** One socket's protocol state, returned by {@link MinerHub.attach}. */
export interface MinerLink {
  receive(data: string): void;
  closed(): void;
}

export interface MinerHubOptions {
  blobStore: BlobStore;
  /** How a miner's `fetch_blob` is answered (default: the raw blob). Private payloads are opened here. */
  resolveBlob?: (urn: string, miner: ConnectedMiner) => Promise<string>;
  logger: Logger;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  helloTimeoutMs?: number;
  maxViolations?: number;
}

/** Connected miners: hello, heartbeats, protocol validation, selection. */
export class MinerHub {
  private readonly miners = new Map<string, ConnectedMiner>();
  private readonly stats = new Map<string, MinerStats>();
  private handler: MinerEventHandler | undefined;
  private readonly sweeper: NodeJS.Timeout;
  private readonly links = new Set<MinerSocket>();

  constructor(private readonly opts: MinerHubOptions) {
    this.sweeper = setInterval(() => this.sweep(), opts.heartbeatIntervalMs);
    this.sweeper.unref();
  }

  /** Wire the dispatcher in (done once, right after construction). */
  setHandler(handler: MinerEventHandler): void {
    this.handler = handler;
  }

  /** Start the protocol on a freshly authenticated socket. */
  attach(socket: MinerSocket): MinerLink {
    this.links.add(socket);
    let miner: ConnectedMiner | undefined;
    let violations = 0;
    const log = this.opts.logger;
    const helloTimer = setTimeout(() => {
      if (miner === undefined) socket.close(1008, "no hello");
    }, this.opts.helloTimeoutMs ?? 10_000);
    helloTimer.unref();

    const violate = (why: string): void => {
      violations += 1;
      log.warn({ miner: miner?.id, why }, "miner protocol violation");
      this.safeSend(socket, { type: "error", message: why });
      if (violations >= (this.opts.maxViolations ?? 20)) socket.close(1008, "too many errors");
    };

    return {
      receive: (data: string) => {
        const read = parseJsonText(data);
        if (!read.ok) {
          violate(read.tooDeep ? "frame nests too deeply" : "frame is not JSON");
          return;
        }
        const parsed = MinerMessage.safeParse(read.value);
        if (!parsed.success) {
          const why = `invalid frame: ${parsed.error.issues[0]?.message ?? "schema"}`;
          violate(why);
          // A broken frame about a live assignment (a commit with usage -1, say) will never be
          // followed by a good one: end the assignment now rather than at the task timeout.
          const aid = assignmentIdOf(read.value);
          if (miner !== undefined && aid !== undefined) {
            this.handler?.onMinerInvalidFrame(miner, aid, why);
          }
          return;
        }
        const msg = parsed.data;
        // A replaced connection's last frames are not the new connection's (same id) to act on.
        if (miner !== undefined && this.miners.get(miner.id) !== miner) return;
        if (miner !== undefined) miner.lastSeenAt = Date.now();
        if (msg.type === "hello") {
          if (miner !== undefined) return violate("duplicate hello");
          clearTimeout(helloTimer);
          miner = this.register(socket, msg);
          return;
        }
        if (miner === undefined) return violate("hello first");
        if (msg.type === "heartbeat") return;
        if (msg.type === "fetch_blob") {
          const current = miner;
          const resolve = this.opts.resolveBlob ?? ((urn: string) => this.opts.blobStore.get(urn));
          resolve(msg.urn, current).then(
            (content) =>
              this.safeSend(current.socket, {
                type: "blob",
                request_id: msg.request_id,
                urn: msg.urn,
                content,
              }),
            (err: unknown) =>
              this.safeSend(current.socket, {
                type: "blob",
                request_id: msg.request_id,
                urn: msg.urn,
                error: err instanceof Error ? err.message : "blob error",
              }),
          );
          return;
        }
        this.handler?.onMinerMessage(miner, msg);
      },
      closed: () => {
        clearTimeout(helloTimer);
        this.links.delete(socket);
        if (miner !== undefined && this.miners.get(miner.id) === miner) {
          this.drop(miner, "disconnected");
        }
      },
    };
  }

  /** A connected miner by id. */
  get(id: string): ConnectedMiner | undefined {
    return this.miners.get(id);
  }

  /** All connected miners. */
  list(): ConnectedMiner[] {
    return [...this.miners.values()];
  }

  /** Miners allowed to serve the session (dedicated: listed ids; ephemeral: serving the model). */
  eligible(session: Session, exclude: ReadonlySet<string> = new Set()): ConnectedMiner[] {
    const out: ConnectedMiner[] = [];
    for (const m of this.miners.values()) {
      if (exclude.has(m.id)) continue;
      const ok =
        session.mode === "dedicated"
          ? session.miners.includes(m.id)
          : m.models.includes(session.model);
      if (ok) out.push(m);
    }
    return out;
  }

  /**
   * Up to `count` eligible miners with free capacity: fewest recent failures first, then least
   * loaded and least recently used. Load is relative to the capacity a miner claims, so a miner
   * claiming 1024 slots and never answering would otherwise take nearly every task; once its
   * assignments fail or time out it only gets what miners that answer cannot take.
   */
  pick(session: Session, count: number, exclude?: ReadonlySet<string>): ConnectedMiner[] {
    const streak = (m: ConnectedMiner) => Math.min(m.stats.failStreak, FAIL_STREAK_CAP);
    return this.eligible(session, exclude)
      .filter((m) => m.active.size < m.capacity)
      .sort(
        (a, b) =>
          streak(a) - streak(b) ||
          a.active.size / a.capacity - b.active.size / b.capacity ||
          a.lastAssignedAt - b.lastAssignedAt,
      )
      .slice(0, count);
  }

  /** Send a frame; false when the socket is gone. */
  send(miner: ConnectedMiner, msg: RouterMessage): boolean {
    return this.safeSend(miner.socket, msg);
  }

  /** Count of connected miners with no active task. */
  idleCount(): number {
    let n = 0;
    for (const m of this.miners.values()) if (m.active.size === 0) n += 1;
    return n;
  }

  /** Stop the heartbeat sweeper and close every socket. */
  close(): void {
    clearInterval(this.sweeper);
    for (const s of this.links) s.close(1001, "router shutting down");
    this.links.clear();
  }

  private register(socket: MinerSocket, hello: Extract<MinerMessage, { type: "hello" }>) {
    const previous = this.miners.get(hello.miner_id);
    let stats = this.stats.get(hello.miner_id);
    if (stats === undefined) {
      stats = {
        assigned: 0,
        completed: 0,
        failed: 0,
        latencyTotalMs: 0,
        lastLatencyMs: null,
        failStreak: 0,
      };
      this.stats.set(hello.miner_id, stats);
    }
    const now = Date.now();
    const miner: ConnectedMiner = {
      id: hello.miner_id,
      engine: hello.engine,
      models: hello.models,
      capacity: hello.capacity,
      version: hello.version,
      connectedAt: now,
      lastSeenAt: now,
      lastAssignedAt: 0,
      active: new Set(),
      stats,
      socket,
    };
    this.miners.set(miner.id, miner);
    this.safeSend(socket, {
      type: "welcome",
      miner_id: miner.id,
      heartbeat_interval_ms: this.opts.heartbeatIntervalMs,
      protocol: PROTOCOL_VERSION,
    });
    this.opts.logger.info(
      { miner: miner.id, engine: miner.engine, models: miner.models, capacity: miner.capacity },
      "miner connected",
    );
    if (previous !== undefined) {
      // A reconnect under the same id replaces the old connection (it may not have noticed yet).
      // The new one is registered and welcomed first, so the old one's running tasks can be
      // reassigned to it at once (or to any other miner): a miner that reconnects fast loses the
      // work in flight, not the tasks. Its old assignments are not carried over as they are: a
      // new process under the id may know nothing of them and would hold them until a timeout.
      this.opts.logger.info({ miner: previous.id, reason: REPLACED }, "miner dropped");
      this.handler?.onMinerGone(previous, REPLACED);
      previous.socket.close(4000, "replaced");
    }
    this.handler?.onMinerAvailable();
    return miner;
  }

  private drop(miner: ConnectedMiner, reason: string): void {
    if (this.miners.get(miner.id) !== miner) return;
    this.miners.delete(miner.id);
    this.opts.logger.info({ miner: miner.id, reason }, "miner dropped");
    this.handler?.onMinerGone(miner, reason);
  }

  private sweep(): void {
    const cutoff = Date.now() - this.opts.heartbeatTimeoutMs;
    for (const m of [...this.miners.values()]) {
      if (m.lastSeenAt < cutoff) {
        this.drop(m, "heartbeat timeout");
        m.socket.close(4001, "heartbeat timeout");
      }
    }
  }

  private safeSend(socket: MinerSocket, msg: RouterMessage): boolean {
    try {
      socket.send(JSON.stringify(msg));
      return true;
    } catch {
      return false;
    }
  }
}

/** The `assignment_id` a frame names, if it is an object with a string one. */
function assignmentIdOf(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || !("assignment_id" in value)) return undefined;
  const id = value.assignment_id;
  return typeof id === "string" ? id : undefined;
}
