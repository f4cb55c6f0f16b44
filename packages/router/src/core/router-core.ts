import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type {
  RouterCompletionRequest,
  RouterCompletionResponse,
  RouterStatus,
} from "@portal/contracts";
import type { Logger } from "pino";
import { parseRouterConfig, type ResolvedFeatures, type RouterConfig } from "../config.js";
import type { TaskParams } from "../protocol.js";
import { A2aTaskRegistry } from "./a2a-rpc.js";
import { BlobNotFoundError, type BlobStore, blobKey } from "./blob-store.js";
import { Dispatcher } from "./dispatcher.js";
import { InvalidTaskInputError, NoMinersAvailableError, RouterDrainingError } from "./errors.js";
import type { EvidenceProvider } from "./factcheck/evidence.js";
import { type ConnectedMiner, MinerHub } from "./miner-hub.js";
import { EncryptionAllowList } from "./privacy/allow-list.js";
import { PayloadKeyIssuer } from "./privacy/issuer.js";
import { PayloadKeyring } from "./privacy/keyring.js";
import { type Session, SessionRegistry } from "./sessions.js";
import { type Task, TaskStore } from "./tasks.js";
import { countTokens } from "./tokens.js";
import { HttpWebFetcher, type WebFetcher } from "./web-fetch/fetcher.js";
import { webFetchPolicy } from "./web-fetch/policy.js";
import { type Facilitator, LocalFacilitator } from "./x402/facilitator.js";

export const ROUTER_VERSION = "0.1.0";

/** Which blob store holds v2/v3 prompts (reported by `/api/v1/info`). */
export type BlobBackend = "fs" | "mem" | "s3" | "custom";

/**
 * 4 MiB: the largest body the route schemas allow (a 1,000,000-character payload or result, in
 * UTF-8 and JSON escapes) with room to spare. Without a limit, a body of any size was buffered,
 * on public routes too.
 */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface RouterCoreOptions {
  config: RouterConfig;
  apiKey: string;
  minerToken: string;
  blobStore: BlobStore;
  blobBackend: BlobBackend;
  logger: Logger;
  heartbeatIntervalMs?: number;
  heartbeatTimeoutMs?: number;
  taskRetention?: number;
  /** How long a task waits for a free miner when all are busy (ms, default 3000). */
  queueTimeoutMs?: number;
  /**
   * Blobs no retained task refers to are swept once older than this (ms, default 24 h): orphans of
   * an earlier run or a crash. Blobs of evicted tasks are deleted at eviction, not by the sweep.
   */
  blobTtlMs?: number;
  /** How often the orphan sweep runs (ms, default 1 h; it also runs once at start). */
  blobSweepIntervalMs?: number;
  /** Realtime factcheck evidence (web search); without it realtime mode answers 503. */
  evidenceProvider?: EvidenceProvider;
  /** Settles x402 payments; default: the in-process LocalFacilitator (moves no funds: dev only). */
  x402Facilitator?: Facilitator;
  /** ENCRYPTION_SEED: enables payload-encryption keys and sealed private payloads. */
  encryptionSeed?: string;
  /** Largest request body accepted, in bytes (default DEFAULT_MAX_BODY_BYTES); larger is 413. */
  maxBodyBytes?: number;
  /**
   * How long a task whose last streaming client went away keeps running in case a deduplicated
   * retry (same client_reference) picks it up; then it is cancelled (ms, default 3000).
   */
  abandonGraceMs?: number;
}

/** A completion as the route layer hands it over. */
export interface CompletionSubmission {
  apiVersion: 1 | 2 | 3;
  pathSessionId: number | undefined;
  request: RouterCompletionRequest;
}

/** A task as any route family hands it over, on a resolved session. */
export interface TaskRequest {
  apiVersion: 1 | 2 | 3;
  session: Session;
  prompt: string;
  stream?: boolean;
  /** Seconds. */
  timeout?: number;
  /** Seconds. */
  precommitTimeout?: number;
  clientReference?: string;
  /** Replicas wanted (default: the session's redundancy). */
  replicas?: number;
  /** Upper bound on replicas (the completion field `max_miners`). */
  maxMiners?: number;
  params: Omit<TaskParams, "max_tokens"> & { max_tokens?: number };
}

/** A created (or deduplicated) task and how to answer for it. */
export interface SubmittedTask {
  task: Task;
  session: Session;
  deduplicated: boolean;
  stream: boolean;
}

function digest(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}

const expectedDigests = new Map<string, Buffer>();

/** Constant-time comparison of a presented secret with the expected one. */
export function secretMatches(presented: string, expected: string): boolean {
  // The expected secret's digest is computed once (it is checked on every request).
  let want = expectedDigests.get(expected);
  if (want === undefined) {
    want = digest(expected);
    if (expectedDigests.size < 16) expectedDigests.set(expected, want);
  }
  return timingSafeEqual(digest(presented), want);
}

/** The router's domain core: sessions, tasks, miners, dispatcher and blob store. No HTTP here. */
export class RouterCore {
  readonly version = ROUTER_VERSION;
  readonly nodeId = randomBytes(4).toString("hex");
  readonly startedAt = Date.now();
  readonly sessions: SessionRegistry;
  readonly tasks: TaskStore;
  readonly miners: MinerHub;
  readonly dispatcher: Dispatcher;
  readonly blobs: BlobStore;
  readonly blobBackend: BlobBackend;
  readonly logger: Logger;
  /** Feature blocks of the config (v3 pools, factcheck, trial, x402, a2a, privacy, mcp…). */
  readonly features: ResolvedFeatures;
  readonly evidenceProvider: EvidenceProvider | undefined;
  readonly x402Facilitator: Facilitator;
  /** Payload keys (private sessions); undefined without ENCRYPTION_SEED. */
  readonly keyring: PayloadKeyring | undefined;
  readonly keyIssuer: PayloadKeyIssuer;
  /** Tasks created through the A2A JSON-RPC endpoint (bounded, in memory like router tasks). */
  readonly a2aTasks = new A2aTaskRegistry();
  /** Delegate web fetch; undefined unless the config has a `web_fetch` block. */
  readonly webFetcher: WebFetcher | undefined;
  private readonly apiKey: string;
  private readonly minerToken: string;
  /** Retained tasks per stored blob (content-addressed: equal prompts share one blob). */
  private readonly blobRefs = new Map<string, number>();
  private readonly blobTtlMs: number;
  private readonly blobSweeper: NodeJS.Timeout;
  readonly maxBodyBytes: number;
  private drainingSince: number | null = null;

  constructor(opts: RouterCoreOptions) {
    this.logger = opts.logger;
    this.apiKey = opts.apiKey;
    this.minerToken = opts.minerToken;
    this.blobs = opts.blobStore;
    this.blobBackend = opts.blobBackend;
    this.maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    const config = parseRouterConfig(opts.config);
    this.features = config;
    this.evidenceProvider = opts.evidenceProvider;
    this.webFetcher =
      config.web_fetch === undefined
        ? undefined
        : new HttpWebFetcher(webFetchPolicy(config.web_fetch), { logger: opts.logger });
    if (config.web_fetch?.allow_private === true) {
      opts.logger.warn("web fetch may reach private addresses (web_fetch.allow_private)");
    }
    this.x402Facilitator = opts.x402Facilitator ?? new LocalFacilitator();
    if (config.x402?.enabled === true && opts.x402Facilitator === undefined) {
      opts.logger.warn(
        "x402 is enabled with the in-process facilitator: payments are not settled on chain",
      );
    }
    this.sessions = new SessionRegistry(config);
    this.tasks = new TaskStore(opts.taskRetention ?? 2000, (task) => this.releaseBlobs(task));
    this.blobTtlMs = opts.blobTtlMs ?? 24 * 3600_000;
    this.blobSweeper = setInterval(
      () => void this.sweepBlobs(),
      opts.blobSweepIntervalMs ?? 3600_000,
    );
    this.blobSweeper.unref();
    void this.sweepBlobs();
    const heartbeatIntervalMs = opts.heartbeatIntervalMs ?? 5000;
    this.miners = new MinerHub({
      blobStore: opts.blobStore,
      logger: opts.logger,
      heartbeatIntervalMs,
      heartbeatTimeoutMs: opts.heartbeatTimeoutMs ?? heartbeatIntervalMs * 3,
      resolveBlob: (urn, miner) => this.resolveBlob(urn, miner),
    });
    this.keyring =
      opts.encryptionSeed === undefined ? undefined : new PayloadKeyring(opts.encryptionSeed);
    this.keyIssuer = new PayloadKeyIssuer(
      this.keyring,
      new EncryptionAllowList(config.privacy?.allowed_list ?? ""),
      this.sessions,
      this.tasks,
    );
    this.dispatcher = new Dispatcher(this.miners, this.tasks, opts.logger, {
      ...(opts.queueTimeoutMs !== undefined && { queueTimeoutMs: opts.queueTimeoutMs }),
    });
    this.miners.setHandler(this.dispatcher);
    this.abandonGraceMs = opts.abandonGraceMs ?? 3_000;
  }

  private readonly abandonGraceMs: number;

  /**
   * The last streaming client of a task went away: unless somebody subscribes again within the
   * grace period (a retry with the same client_reference), cancel the task so its miners stop
   * working for nobody.
   */
  abandonIfUnwatched(task: Task): void {
    if (task.finished || task.listenerCount > 0) return;
    const timer = setTimeout(() => {
      if (task.listenerCount === 0) {
        this.dispatcher.abandon(task, "cancelled: the streaming client went away");
      }
    }, this.abandonGraceMs);
    timer.unref();
  }

  /** Count a blob as owned by a task until the task leaves retention. */
  retainBlob(task: Task, urn: string): void {
    task.blobUrns.push(urn);
    const key = blobKey(urn);
    this.blobRefs.set(key, (this.blobRefs.get(key) ?? 0) + 1);
  }

  /** Drop a task's claim on its blobs; the last claim deletes the blob. */
  releaseBlobs(task: Task): void {
    for (const urn of task.blobUrns.splice(0)) this.releaseUrn(urn);
  }

  /** Remove orphaned blobs older than the TTL; returns how many were removed. */
  async sweepBlobs(): Promise<number> {
    try {
      return await this.blobs.sweep(this.blobTtlMs, (key) => this.blobRefs.has(key));
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, "blob sweep failed");
      return 0;
    }
  }

  private releaseUrn(urn: string): void {
    const key = blobKey(urn);
    const n = (this.blobRefs.get(key) ?? 1) - 1;
    if (n > 0) {
      this.blobRefs.set(key, n);
      return;
    }
    this.blobRefs.delete(key);
    this.blobs.delete(urn).catch((err: unknown) => {
      this.logger.warn({ urn, err: (err as Error).message }, "blob delete failed");
    });
  }

  /** True when the bearer token is the router API key. */
  verifyApiKey(token: string): boolean {
    return secretMatches(token, this.apiKey);
  }

  /** True when the token is the miner token. */
  verifyMinerToken(token: string): boolean {
    return secretMatches(token, this.minerToken);
  }

  /** Create and dispatch a completion task, or return the task an earlier client_reference made. */
  async submitCompletion(sub: CompletionSubmission): Promise<SubmittedTask> {
    const req = sub.request;
    return this.submitTask({
      apiVersion: sub.apiVersion,
      session: this.sessions.resolve(sub.pathSessionId ?? req.session_id),
      prompt: req.prompt,
      stream: req.stream === true,
      ...(req.timeout !== undefined && { timeout: req.timeout }),
      ...(req.precommit_timeout !== undefined && { precommitTimeout: req.precommit_timeout }),
      ...(req.client_reference !== undefined && { clientReference: req.client_reference }),
      ...(req.max_miners !== undefined && { maxMiners: req.max_miners }),
      params: {
        ...(req.max_tokens !== undefined && { max_tokens: req.max_tokens }),
        ...(req.temperature !== undefined && { temperature: req.temperature }),
        ...(req.top_p !== undefined && { top_p: req.top_p }),
        ...(req.top_k !== undefined && { top_k: req.top_k }),
        ...(req.presence_penalty !== undefined && { presence_penalty: req.presence_penalty }),
        ...(req.frequency_penalty !== undefined && { frequency_penalty: req.frequency_penalty }),
        ...(req.stop !== undefined && {
          stop: typeof req.stop === "string" ? [req.stop] : req.stop,
        }),
        ...(req.prompt_type !== undefined && { prompt_type: req.prompt_type }),
        ...(req.prompt_template !== undefined && { prompt_template: req.prompt_template }),
      },
    });
  }

  /**
   * Create and dispatch a task on a resolved session (completions, delegate, validate, factcheck
   * all come through here), or return the task an earlier client_reference made.
   */
  async submitTask(req: TaskRequest): Promise<SubmittedTask> {
    const session = req.session;
    const stream = req.stream === true && !session.private;
    const ref = req.clientReference;
    const earlier = ref === undefined ? undefined : this.tasks.findByReference(ref);
    if (earlier !== undefined) return { task: earlier, session, deduplicated: true, stream };
    // A retry of a task this node already runs is answered above; anything new is refused.
    if (this.drainingSince !== null) {
      throw new RouterDrainingError("router node is draining; submit to another router", {
        draining: true,
      });
    }

    if (
      req.timeout !== undefined &&
      req.precommitTimeout !== undefined &&
      req.timeout <= req.precommitTimeout
    ) {
      throw new InvalidTaskInputError("timeout must be greater than precommit_timeout", {
        timeout: req.timeout,
        precommit_timeout: req.precommitTimeout,
      });
    }
    const timeoutS = req.timeout ?? session.timeout;
    const precommitTimeoutS = Math.min(req.precommitTimeout ?? session.precommit_timeout, timeoutS);
    const promptTokens = countTokens(req.prompt);
    if (promptTokens >= session.context_length) {
      throw new InvalidTaskInputError("prompt does not fit the model's context", {
        prompt_tokens: promptTokens,
        context_length: session.context_length,
      });
    }
    // The completion budget is cut to what the context leaves after the prompt.
    const maxTokens = Math.min(
      req.params.max_tokens ?? session.max_tokens,
      session.context_length - promptTokens,
    );
    const promptUrn =
      req.apiVersion === 1
        ? undefined
        : await this.blobs.put(req.apiVersion, this.sealPayload(session, req.prompt));
    // Re-check after the await: a concurrent duplicate may have been created meanwhile.
    const raced = ref === undefined ? undefined : this.tasks.findByReference(ref);
    if (raced !== undefined) {
      if (promptUrn !== undefined && !this.blobRefs.has(blobKey(promptUrn))) {
        this.blobs.delete(promptUrn).catch(() => {});
      }
      return { task: raced, session, deduplicated: true, stream };
    }

    const params: TaskParams = { ...req.params, max_tokens: maxTokens };
    const replicas = Math.min(req.replicas ?? session.redundancy, req.maxMiners ?? 64);
    const task = this.tasks.create({
      sessionId: session.id,
      apiVersion: req.apiVersion,
      model: session.model,
      prompt: req.prompt,
      ...(promptUrn !== undefined && { promptUrn }),
      promptTokens,
      params,
      replicas,
      timeoutS,
      precommitTimeoutS,
      ...(ref !== undefined && { clientReference: ref }),
      stream,
      private: session.private,
    });
    if (promptUrn !== undefined) this.retainBlob(task, promptUrn);
    if (session.private && this.keyring !== undefined) {
      void task.done.then(() =>
        this.sealResult(task).catch((err: unknown) =>
          this.logger.warn({ err: (err as Error).message, task: task.id }, "sealing result failed"),
        ),
      );
    }
    try {
      await this.dispatcher.start(
        task,
        session,
        session.queue_timeout === undefined ? undefined : session.queue_timeout * 1000,
      );
    } catch (err) {
      if (err instanceof NoMinersAvailableError) {
        // Nothing ran, so the client_reference is released and a retry may run the task.
        this.tasks.releaseReference(task);
        task.error = err;
        task.advance("failed");
        this.tasks.evict(session.id);
      }
      throw err;
    }
    return { task, session, deduplicated: false, stream };
  }

  /** Submit a task and wait until it is terminal; throws the task's error when it has no result. */
  async runTask(req: TaskRequest): Promise<Task> {
    const { task } = await this.submitTask({ ...req, stream: false });
    await task.watch();
    if (task.result === undefined) {
      throw task.error ?? new Error(`task ${task.id} has no result (state ${task.state})`);
    }
    return task;
  }

  /** What goes into the blob store for a prompt: sealed with the session key for private sessions. */
  private sealPayload(session: Session, content: string): string {
    if (!session.private || this.keyring === undefined) return content;
    return this.keyring.seal(this.keyring.sessionScope(session.id), content);
  }

  /**
   * A miner's `fetch_blob`: plain blobs as stored; sealed ones are opened only for a miner that is
   * working on a task of the sealing session right now.
   */
  private async resolveBlob(urn: string, miner: ConnectedMiner): Promise<string> {
    const content = await this.blobs.get(urn);
    if (!PayloadKeyring.isSealed(content)) return content;
    if (this.keyring === undefined) throw new BlobNotFoundError("sealed blob but no keyring");
    const { scope } = PayloadKeyring.parse(content);
    const allowed = [...miner.active].some((aid) => scope === `s${aid.split(".")[0]}`);
    if (!allowed) throw new BlobNotFoundError(`blob not available to miner ${miner.id}: ${urn}`);
    return this.keyring.open(content).plaintext;
  }

  /** Store a posted result (sealed with the task key for private sessions); the task owns the blob. */
  async storeResultBlob(task: Task, text: string): Promise<string> {
    const content =
      task.input.private && this.keyring !== undefined
        ? this.keyring.seal(this.keyring.taskScope(task.input.sessionId, task.id), text)
        : text;
    const urn = await this.blobs.put(3, content);
    this.retainBlob(task, urn);
    return urn;
  }

  /** Keep a private task's result sealed with its task key in the blob store. */
  private async sealResult(task: Task): Promise<void> {
    if (this.keyring === undefined || task.result === undefined) return;
    const sealed = this.keyring.seal(
      this.keyring.taskScope(task.input.sessionId, task.id),
      task.result.text,
    );
    const urn = await this.blobs.put(task.input.apiVersion === 2 ? 2 : 3, sealed);
    this.retainBlob(task, urn);
    task.resultUrn = urn;
  }

  /** The text-completion response of a closed task; throws the task's error otherwise. */
  completionResponse(task: Task): RouterCompletionResponse {
    const result = task.result;
    if (result === undefined) {
      throw task.error ?? new Error(`task ${task.id} has no result (state ${task.state})`);
    }
    return {
      id: this.completionId(task),
      object: "text_completion",
      created: Math.floor(task.createdAt / 1000),
      model: task.input.model,
      choices: [
        { index: 0, text: result.text, finish_reason: result.finishReason, logprobs: null },
      ],
      usage: {
        prompt_tokens: result.usage.prompt_tokens,
        completion_tokens: result.usage.completion_tokens,
        total_tokens: result.usage.prompt_tokens + result.usage.completion_tokens,
      },
      session_id: task.input.sessionId,
      task_id: task.id,
      client_reference: task.input.clientReference ?? null,
      miners: result.evidence,
      consensus: result.consensus,
    };
  }

  /** Stable id of a task's completion. */
  completionId(task: Task): string {
    return `cmpl-${this.nodeId}-${task.input.sessionId}-${task.id}`;
  }

  /** What `GET /api/v1/status` answers. */
  status(): RouterStatus {
    const connected = this.miners.list().length;
    return {
      status: connected > 0 ? "ok" : "degraded",
      version: this.version,
      uptime_s: Math.round((Date.now() - this.startedAt) / 1000),
      miners: { connected, idle: this.miners.idleCount() },
      sessions: this.sessions.size,
      tasks: { active: this.tasks.activeCount(), total: this.tasks.total },
    };
  }

  /** True once {@link beginDrain} was called; never goes back. */
  get draining(): boolean {
    return this.drainingSince !== null;
  }

  /** Stop taking new tasks (503); tasks already accepted keep running to the end. */
  beginDrain(): void {
    this.drainingSince ??= Date.now();
  }

  /** Stop timers, close miner sockets and the web fetcher's connections. */
  close(): void {
    clearInterval(this.blobSweeper);
    this.webFetcher?.close().catch((err: unknown) => {
      this.logger.warn({ err: (err as Error).message }, "closing the web fetcher failed");
    });
    this.dispatcher.close();
    this.miners.close();
  }
}
