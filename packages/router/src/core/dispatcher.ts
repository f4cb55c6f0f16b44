import type { MinerEvidence } from "@portal/contracts";
import type { Logger } from "pino";
import { reachConsensus } from "./consensus.js";
import { NoMinersAvailableError, TaskFailedError, TaskTimeoutError } from "./errors.js";
import {
  type ConnectedMiner,
  type MinerEventHandler,
  type MinerHub,
  REPLACED,
} from "./miner-hub.js";
import type { Session } from "./sessions.js";
import type { Assignment, Task, TaskStore } from "./tasks.js";
import { countTokens, sha256Hex, truncateToTokens } from "./tokens.js";

type Entry = { task: Task; session: Session; a: Assignment };
/** A new task waiting for free miners (FIFO), bounded in time. */
type Queued = {
  task: Task;
  session: Session;
  enqueuedAt: number;
  timer: NodeJS.Timeout;
  resolve: () => void;
  reject: (err: NoMinersAvailableError) => void;
};

export interface DispatcherOptions {
  /** How long a new task may wait for free miners before `no_miners_available` (ms, default 3000). */
  queueTimeoutMs?: number;
  /** Most tasks waiting at once; beyond it new tasks are refused at once (default 10000). */
  maxQueued?: number;
}

export const DEFAULT_QUEUE_TIMEOUT_MS = 3000;
type WorkMessage = Parameters<MinerEventHandler["onMinerMessage"]>[1];

const LIVE: ReadonlySet<Assignment["status"]> = new Set([
  "assigned",
  "acknowledged",
  "precommitted",
]);
const STAGE = { assigned: 1, acknowledged: 2, precommitted: 3, committed: 4 } as const;

/**
 * Places task replicas on miners and drives them through ack → precommit → commit, reassigning
 * replicas whose miner fails, disconnects or misses the precommit deadline, then reaches consensus.
 */
export class Dispatcher implements MinerEventHandler {
  private readonly byAssignment = new Map<string, Entry>();
  private readonly waiting = new Map<Task, Session>();
  private readonly queue: Queued[] = [];
  private readonly queueTimeoutMs: number;
  private readonly maxQueued: number;

  constructor(
    private readonly hub: MinerHub,
    private readonly store: TaskStore,
    private readonly logger: Logger,
    opts: DispatcherOptions = {},
  ) {
    this.queueTimeoutMs = opts.queueTimeoutMs ?? DEFAULT_QUEUE_TIMEOUT_MS;
    this.maxQueued = opts.maxQueued ?? 10_000;
  }

  /**
   * Assign a new task's replicas. When enough miners serving the session are connected but busy,
   * the task waits (FIFO) up to the queue timeout for free ones; it is refused at once with a
   * NoMinersAvailableError when fewer miners than replicas are connected at all, or the queue is
   * full. Resolves once every replica is assigned.
   */
  start(task: Task, session: Session, queueTimeoutMs?: number): Promise<void> {
    const replicas = task.input.replicas;
    const connected = this.hub.eligible(session).length;
    if (this.queue.length === 0 || connected < replicas) {
      const picked = this.hub.pick(session, replicas);
      if (picked.length >= replicas) {
        this.launch(task, session, picked, Date.now());
        return Promise.resolve();
      }
    }
    const wait = Math.min(queueTimeoutMs ?? this.queueTimeoutMs, task.input.timeoutS * 1000);
    if (connected < replicas || wait <= 0 || this.queue.length >= this.maxQueued) {
      return Promise.reject(this.unavailable(task, session, connected, false));
    }
    return new Promise<void>((resolve, reject) => {
      const entry: Queued = {
        task,
        session,
        enqueuedAt: Date.now(),
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = this.queue.indexOf(entry);
          if (i < 0) return;
          this.queue.splice(i, 1);
          reject(this.unavailable(task, session, this.hub.eligible(session).length, true, wait));
        }, wait),
      };
      this.queue.push(entry);
      // Another task may have queued first: give the head a chance before waiting.
      this.drainQueue();
    });
  }

  /** New tasks currently waiting for a free miner. */
  get queued(): number {
    return this.queue.length;
  }

  private unavailable(
    task: Task,
    session: Session,
    connected: number,
    waited: boolean,
    waitedMs = 0,
  ): NoMinersAvailableError {
    const available = this.hub.pick(session, task.input.replicas).length;
    const message =
      connected === 0
        ? `no miner serving session ${session.id} is connected`
        : connected < task.input.replicas
          ? `session ${session.id} needs ${task.input.replicas} miners but only ${connected} are connected`
          : waited
            ? `all miners serving session ${session.id} stayed busy for ${waitedMs} ms`
            : `all miners serving session ${session.id} are busy`;
    return new NoMinersAvailableError(message, {
      required: task.input.replicas,
      available,
      connected,
      ...(waited && { queued_ms: waitedMs }),
    });
  }

  private launch(task: Task, session: Session, picked: ConnectedMiner[], since: number): void {
    // The task's timeout counts from when it was submitted, queueing included.
    const left = Math.max(1, task.input.timeoutS * 1000 - (Date.now() - since));
    task.deadlineTimer = setTimeout(() => this.onDeadline(task), left);
    for (const miner of picked) this.assign(task, session, miner);
  }

  /** Place queued tasks on free miners, oldest first; a task that does not fit yet keeps its place. */
  private drainQueue(): void {
    for (let i = 0; i < this.queue.length; ) {
      const q = this.queue[i];
      if (q === undefined) break;
      const picked = this.hub.pick(q.session, q.task.input.replicas);
      if (picked.length < q.task.input.replicas) {
        i += 1;
        continue;
      }
      this.queue.splice(i, 1);
      clearTimeout(q.timer);
      this.launch(q.task, q.session, picked, q.enqueuedAt);
      q.resolve();
    }
  }

  /** Assignment ids currently tracked (for tests and status). */
  get liveAssignments(): number {
    return this.byAssignment.size;
  }

  onMinerMessage(miner: ConnectedMiner, msg: WorkMessage): void {
    const entry = this.byAssignment.get(msg.assignment_id);
    // Frames about unknown or someone else's assignments are ignored, never trusted.
    if (entry === undefined || entry.a.minerId !== miner.id) return;
    const { task, a } = entry;
    switch (msg.type) {
      case "ack":
        if (a.status === "assigned") {
          a.status = "acknowledged";
          a.acknowledgedAt = Date.now();
          this.refreshState(task);
        }
        return;
      case "token":
        // Once a miner has precommitted, its text is fixed: the rest reaches the client from the
        // commit, which is checked against that hash. Later token frames are never forwarded.
        task.appendToken(
          a,
          msg.text,
          task.input.stream &&
            task.input.replicas === 1 &&
            task.leadAssignmentId === a.id &&
            a.status !== "precommitted",
        );
        return;
      case "precommit":
        if (a.status === "assigned" || a.status === "acknowledged") {
          a.status = "precommitted";
          a.precommittedAt = Date.now();
          a.precommitHash = msg.hash;
          clearTimeout(a.precommitTimer);
          this.refreshState(task);
        }
        return;
      case "commit": {
        if (a.status !== "precommitted" || a.precommitHash === undefined) {
          this.failAssignment(entry, "commit before precommit");
          return;
        }
        const hash = sha256Hex(msg.text);
        if (hash !== a.precommitHash) {
          this.failAssignment(entry, "commit does not match precommit");
          return;
        }
        a.status = "committed";
        a.committedAt = Date.now();
        a.resultHash = hash;
        a.text = msg.text;
        a.finishReason = msg.finish_reason;
        if (msg.usage !== undefined) a.usage = msg.usage;
        this.release(entry);
        miner.stats.completed += 1;
        miner.stats.failStreak = 0;
        const latency = a.committedAt - a.assignedAt;
        miner.stats.latencyTotalMs += latency;
        miner.stats.lastLatencyMs = latency;
        this.refreshState(task);
        this.checkComplete(task);
        this.onMinerAvailable();
        return;
      }
      case "fail":
        this.failAssignment(entry, `miner error: ${msg.message}`);
        return;
    }
  }

  onMinerInvalidFrame(miner: ConnectedMiner, assignmentId: string, why: string): void {
    const entry = this.byAssignment.get(assignmentId);
    // As for valid frames: only the miner holding the assignment can end it.
    if (entry === undefined || entry.a.minerId !== miner.id) return;
    this.failAssignment(entry, why);
  }

  onMinerGone(miner: ConnectedMiner, reason: string): void {
    const replaced = reason === REPLACED;
    for (const id of [...miner.active]) {
      const entry = this.byAssignment.get(id);
      if (entry === undefined) continue;
      // A reconnect under the same id (already registered) may take its own tasks again, and
      // it is no failure of the miner's: not counted against it.
      if (replaced) entry.task.triedMiners.delete(miner.id);
      this.failAssignment(entry, replaced ? REPLACED : "miner disconnected", false, !replaced);
    }
    // Waiting tasks whose last eligible miner just left cannot be helped any more.
    for (const [task, session] of [...this.waiting]) {
      if (this.hub.eligible(session, task.triedMiners).length === 0) {
        task.waitingReplicas = 0;
        this.waiting.delete(task);
        this.checkComplete(task);
      }
    }
    // Queued tasks that can no longer get enough miners are refused now rather than at timeout.
    for (const q of [...this.queue]) {
      const connected = this.hub.eligible(q.session).length;
      if (connected >= q.task.input.replicas) continue;
      this.queue.splice(this.queue.indexOf(q), 1);
      clearTimeout(q.timer);
      q.reject(this.unavailable(q.task, q.session, connected, false));
    }
  }

  onMinerAvailable(): void {
    for (const [task, session] of [...this.waiting]) {
      while (task.waitingReplicas > 0 && !task.finished) {
        const [miner] = this.hub.pick(session, 1, task.triedMiners);
        if (miner === undefined) break;
        task.waitingReplicas -= 1;
        this.assign(task, session, miner);
      }
      if (task.waitingReplicas === 0 || task.finished) this.waiting.delete(task);
    }
    // Replicas of running tasks go first; then new tasks, in arrival order.
    if (this.queue.length > 0) this.drainQueue();
  }

  /** Stop every timer (router shutdown). */
  close(): void {
    for (const { task, a } of this.byAssignment.values()) {
      clearTimeout(a.precommitTimer);
      clearTimeout(task.deadlineTimer);
    }
    this.byAssignment.clear();
    this.waiting.clear();
    for (const q of this.queue.splice(0)) {
      clearTimeout(q.timer);
      q.reject(new NoMinersAvailableError("router shutting down", { required: 0 }));
    }
  }

  private assign(task: Task, session: Session, miner: ConnectedMiner): void {
    const a: Assignment = {
      id: `${task.input.sessionId}.${task.id}.${task.assignments.length}`,
      minerId: miner.id,
      status: "assigned",
      assignedAt: Date.now(),
      partialChars: 0,
    };
    const entry: Entry = { task, session, a };
    task.assignments.push(a);
    task.triedMiners.add(miner.id);
    if (task.leadAssignmentId === undefined) task.leadAssignmentId = a.id;
    miner.active.add(a.id);
    miner.lastAssignedAt = Date.now();
    miner.stats.assigned += 1;
    this.byAssignment.set(a.id, entry);
    a.precommitTimer = setTimeout(() => {
      if (a.status === "assigned" || a.status === "acknowledged") {
        this.failAssignment(entry, "no precommit before precommit_timeout");
      }
    }, task.input.precommitTimeoutS * 1000);
    task.advance("assigned");
    const sent = this.hub.send(miner, {
      type: "task",
      assignment_id: a.id,
      session_id: task.input.sessionId,
      task_id: task.id,
      model: task.input.model,
      ...(task.input.promptUrn !== undefined
        ? {
            prompt_urn: task.input.promptUrn,
            // A non-private session's blob is the plain prompt: push it (the miner checks its
            // hash against the URN). Private sessions' blobs only ever go through fetch_blob.
            ...(!task.input.private && { prompt_blob: task.input.prompt }),
          }
        : { prompt: task.input.prompt }),
      params: task.input.params,
      stream: task.input.stream && task.input.replicas === 1,
    });
    if (!sent) this.failAssignment(entry, "send to miner failed", false);
  }

  /** Stop tracking an assignment and free its miner slot. */
  private release({ a }: Entry): void {
    clearTimeout(a.precommitTimer);
    this.byAssignment.delete(a.id);
    this.hub.get(a.minerId)?.active.delete(a.id);
  }

  private failAssignment(entry: Entry, reason: string, notifyMiner = true, counts = true): void {
    const { task, session, a } = entry;
    if (!LIVE.has(a.status)) return;
    a.status = "failed";
    a.failure = reason;
    this.release(entry);
    const miner = this.hub.get(a.minerId);
    if (miner !== undefined) {
      if (counts) {
        miner.stats.failed += 1;
        miner.stats.failStreak += 1;
      }
      if (notifyMiner) this.hub.send(miner, { type: "cancel", assignment_id: a.id, reason });
    }
    this.logger.warn(
      { session: task.input.sessionId, task: task.id, miner: a.minerId, reason },
      "assignment failed",
    );
    if (task.finished) return;
    if (task.leadAssignmentId === a.id) task.leadAssignmentId = undefined;
    const [replacement] = this.hub.pick(session, 1, task.triedMiners);
    if (replacement !== undefined) {
      this.assign(task, session, replacement);
    } else if (this.hub.eligible(session, task.triedMiners).length > 0) {
      // Untried miners exist but are busy: wait for one to free up, until the deadline.
      task.waitingReplicas += 1;
      this.waiting.set(task, session);
    } else {
      this.checkComplete(task);
    }
    if (miner !== undefined) this.onMinerAvailable();
  }

  private refreshState(task: Task): void {
    const considered = task.assignments.filter(
      (x) => LIVE.has(x.status) || x.status === "committed",
    );
    if (considered.length === 0) return;
    const min = Math.min(...considered.map((x) => STAGE[x.status as keyof typeof STAGE]));
    if (min >= STAGE.acknowledged) task.advance("acknowledged");
    if (min >= STAGE.precommitted) task.advance("precommitted");
  }

  private checkComplete(task: Task): void {
    if (task.finished) return;
    const committed = task.assignments.filter((x) => x.status === "committed");
    const live = task.assignments.filter((x) => LIVE.has(x.status));
    if (
      committed.length >= task.input.replicas ||
      (committed.length > 0 && live.length === 0 && task.waitingReplicas === 0)
    ) {
      this.finalize(task);
      return;
    }
    if (live.length > 0 || task.waitingReplicas > 0) return;
    this.finish(
      task,
      new TaskFailedError(`every miner failed task ${task.id}`, {
        failures: task.assignments.map((x) => ({ miner_id: x.minerId, reason: x.failure ?? null })),
      }),
    );
  }

  private onDeadline(task: Task): void {
    if (task.finished) return;
    if (task.assignments.some((x) => x.status === "committed")) {
      this.finalize(task);
      return;
    }
    // Miners still holding the task at its deadline (precommitted, never committed) count as
    // failing for selection, as a precommit timeout does.
    for (const a of task.assignments) {
      const miner = LIVE.has(a.status) ? this.hub.get(a.minerId) : undefined;
      if (miner !== undefined) miner.stats.failStreak += 1;
    }
    this.finish(
      task,
      new TaskTimeoutError(`task ${task.id} did not finish within ${task.input.timeoutS}s`, {
        timeout: task.input.timeoutS,
        state: task.state,
      }),
    );
  }

  private finalize(task: Task): void {
    const committed = task.assignments.filter((x) => x.status === "committed");
    this.cancelLive(task, "consensus reached");
    task.advance("committed");
    const outcome = reachConsensus(
      committed.map((x) => ({ key: x.id, text: x.text ?? "", hash: x.resultHash ?? "" })),
    );
    const winner = committed.find((x) => x.id === outcome.winner.key) ?? committed[0];
    if (winner === undefined) return;
    const evidence: MinerEvidence[] = task.assignments.map((x) => ({
      miner_id: x.minerId,
      status: x.status === "failed" ? `failed: ${x.failure ?? "unknown"}` : x.status,
      latency_ms: x.committedAt !== undefined ? x.committedAt - x.assignedAt : null,
      result_hash: x.resultHash ?? null,
      agreed: x.status === "committed" ? outcome.agreed.has(x.id) : null,
    }));
    // The miner's text is cut at max_tokens: its hash matched its precommit, but the length is
    // the customer's to set. What a live stream already showed stays (it was cut at the same
    // budget, counted per frame, which only in rare tokenizations ends past this cut).
    const full = winner.text ?? "";
    const kept = truncateToTokens(full, task.input.params.max_tokens);
    const shown = task.streamed;
    const text = kept.text.length < shown.length && full.startsWith(shown) ? shown : kept.text;
    const cut = text.length < full.length;
    // The usage bills the customer, so it is always the router's own count: the prompt it sent
    // and the text it returns. A miner's figure is only logged when it disagrees.
    const usage = {
      prompt_tokens: task.input.promptTokens,
      completion_tokens: text === kept.text ? kept.tokens : countTokens(text),
    };
    if (
      winner.usage !== undefined &&
      (winner.usage.prompt_tokens !== usage.prompt_tokens ||
        winner.usage.completion_tokens !== usage.completion_tokens)
    ) {
      this.logger.info(
        { task: task.id, miner: winner.minerId, reported: winner.usage, counted: usage },
        "miner usage differs from the router's count",
      );
    }
    task.result = {
      text,
      finishReason: cut ? "length" : (winner.finishReason ?? "stop"),
      usage,
      consensus: {
        method: outcome.method,
        agreement: outcome.agreement,
        replicas: committed.length,
      },
      evidence,
    };
    task.advance("validated");
    this.finish(task);
  }

  /** End a running task now (its miners are told to cancel); a no-op once it is terminal. */
  abandon(task: Task, reason: string): void {
    if (task.finished) return;
    this.logger.info(
      { taskId: task.id, sessionId: task.input.sessionId, reason },
      "task abandoned",
    );
    this.finish(task, new TaskFailedError(reason));
  }

  private cancelLive(task: Task, reason: string): void {
    for (const a of task.assignments) {
      if (!LIVE.has(a.status)) continue;
      a.status = "cancelled";
      a.failure = reason;
      const entry = this.byAssignment.get(a.id);
      if (entry !== undefined) this.release(entry);
      const miner = this.hub.get(a.minerId);
      if (miner !== undefined)
        this.hub.send(miner, { type: "cancel", assignment_id: a.id, reason });
    }
  }

  private finish(task: Task, error?: TaskFailedError | TaskTimeoutError): void {
    clearTimeout(task.deadlineTimer);
    this.cancelLive(task, error === undefined ? "done" : "task ended");
    this.waiting.delete(task);
    task.waitingReplicas = 0;
    if (error === undefined) {
      task.advance("closed");
    } else {
      task.error = error;
      task.advance(error instanceof TaskTimeoutError ? "timed_out" : "failed");
    }
    this.store.evict(task.input.sessionId);
    this.onMinerAvailable();
  }
}
