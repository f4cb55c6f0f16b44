import type { MinerEvidence } from "@portal/contracts";
import type { TaskParams } from "../protocol.js";
import type { RouterDomainError } from "./errors.js";
import { TaskNotFoundError } from "./errors.js";
import { truncateToTokens } from "./tokens.js";

/** Lifecycle of a task; the last three are terminal. */
export const TASK_STATES = [
  "created",
  "assigned",
  "acknowledged",
  "precommitted",
  "committed",
  "validated",
  "closed",
  "timed_out",
  "failed",
] as const;
export type TaskState = (typeof TASK_STATES)[number];

/** Status of one miner's replica of a task. */
export type AssignmentStatus =
  | "assigned"
  | "acknowledged"
  | "precommitted"
  | "committed"
  | "failed"
  | "cancelled";

/** One replica of a task handed to one miner. */
export interface Assignment {
  id: string;
  minerId: string;
  status: AssignmentStatus;
  assignedAt: number;
  acknowledgedAt?: number;
  precommittedAt?: number;
  committedAt?: number;
  precommitHash?: string;
  resultHash?: string;
  /** Characters of streamed text received from this replica (frames past the cap are dropped). */
  partialChars: number;
  /** This replica's streamed text stopped matching what the client was shown: not forwarded. */
  partialDiverged?: boolean;
  text?: string;
  finishReason?: string;
  /** What the miner says it used: logged for comparison, never billed (the router counts). */
  usage?: { prompt_tokens: number; completion_tokens: number };
  failure?: string;
  precommitTimer?: NodeJS.Timeout;
}

/** The agreed result of a task, before it is rendered as a response. */
export interface TaskResult {
  text: string;
  finishReason: string;
  usage: { prompt_tokens: number; completion_tokens: number };
  consensus: { method: "single" | "majority" | "medoid"; agreement: number; replicas: number };
  evidence: MinerEvidence[];
}

/** What a streaming client hears about a task. */
export interface TaskListener {
  onDelta(text: string): void;
  onDone(task: Task): void;
}

/** Everything needed to create a task. */
export interface NewTask {
  sessionId: number;
  apiVersion: 1 | 2 | 3;
  model: string;
  prompt: string;
  promptUrn?: string;
  promptTokens: number;
  params: TaskParams;
  replicas: number;
  timeoutS: number;
  precommitTimeoutS: number;
  clientReference?: string;
  stream: boolean;
  private: boolean;
}

const TERMINAL: ReadonlySet<TaskState> = new Set(["closed", "timed_out", "failed"]);
const MAX_PARTIAL_CHARS = 4 * 1024 * 1024;

/** A task and its replicas. Mutated only by the dispatcher. */
export class Task {
  readonly id: number;
  readonly createdAt = Date.now();
  readonly input: NewTask;
  state: TaskState = "created";
  readonly history: Array<{ state: TaskState; at: number }> = [];
  readonly assignments: Assignment[] = [];
  readonly triedMiners = new Set<string>();
  waitingReplicas = 0;
  leadAssignmentId: string | undefined;
  /**
   * What streaming clients were shown, as the deltas sent (joined only when read: appending to one
   * growing string and comparing it on every frame made a long stream quadratic).
   */
  private shownChunks: string[] = [];
  /** Characters in `shownChunks`. */
  private shownChars = 0;
  /** Tokens of `streamed`, summed per forwarded piece (at least the exact count, nearly always). */
  streamedTokens = 0;
  /** The stream reached max_tokens: nothing more is forwarded live. */
  streamFull = false;
  finishedAt: number | undefined;
  result: TaskResult | undefined;
  error: RouterDomainError | undefined;
  deadlineTimer: NodeJS.Timeout | undefined;
  /** Sealed copy of a private task's result in the blob store. */
  resultUrn: string | undefined;
  /** Blob URNs this task owns (its prompt, encrypted payloads); deleted when it is evicted. */
  readonly blobUrns: string[] = [];
  private readonly listeners = new Set<TaskListener>();
  private resolveDone: () => void = () => {};
  /** Resolves once the task is terminal (with a response or an error). */
  readonly done: Promise<void>;

  constructor(id: number, input: NewTask) {
    this.id = id;
    this.input = input;
    this.history.push({ state: "created", at: this.createdAt });
    this.done = new Promise<void>((resolve) => {
      this.resolveDone = resolve;
    });
  }

  /** True once closed, timed out or failed. */
  get finished(): boolean {
    return TERMINAL.has(this.state);
  }

  /** Move forward along the lifecycle; never backwards, never out of a terminal state. */
  advance(state: TaskState): void {
    if (this.finished) return;
    if (TASK_STATES.indexOf(state) <= TASK_STATES.indexOf(this.state)) return;
    this.state = state;
    this.history.push({ state, at: Date.now() });
    if (TERMINAL.has(state)) {
      this.finishedAt = Date.now();
      for (const l of this.listeners) l.onDone(this);
      this.listeners.clear();
      this.resolveDone();
    }
  }

  /** The text streaming clients were shown so far. */
  get streamed(): string {
    if (this.shownChunks.length > 1) this.shownChunks = [this.shownChunks.join("")];
    return this.shownChunks[0] ?? "";
  }

  /** Record that streaming clients have now been shown `text` (a prefix of it was shown before). */
  set streamed(text: string) {
    this.shownChunks = [text];
    this.shownChars = text.length;
  }

  /**
   * Take a token frame of replica `a`. With `forward`, pass on the part of it a streaming client
   * has not seen yet, up to max_tokens: the delta that reaches the budget is cut and later ones
   * are dropped (the end of the answer, cut the same way, comes with the final chunk). A replica
   * that replaces a failed one re-streams from the start: the part already shown is compared,
   * not sent again. Work is proportional to the frame, never to the text before it.
   */
  appendToken(a: Assignment, text: string, forward: boolean): void {
    if (a.partialChars + text.length > MAX_PARTIAL_CHARS) return;
    const at = a.partialChars;
    a.partialChars += text.length;
    if (!forward || a.partialDiverged === true || this.streamFull) return;
    let delta = text;
    if (at < this.shownChars) {
      const overlap = Math.min(text.length, this.shownChars - at);
      if (this.streamed.slice(at, at + overlap) !== text.slice(0, overlap)) {
        a.partialDiverged = true;
        return;
      }
      delta = text.slice(overlap);
    } else if (at > this.shownChars) {
      // Text of this replica the client never saw (it was not forwarded when it came): what
      // follows cannot be placed after what was shown.
      a.partialDiverged = true;
      return;
    }
    if (delta.length === 0) return;
    const room = this.input.params.max_tokens - this.streamedTokens;
    const kept = truncateToTokens(delta, room);
    if (kept.cut) this.streamFull = true;
    if (kept.text.length === 0) return;
    this.shownChunks.push(kept.text);
    this.shownChars += kept.text.length;
    this.streamedTokens += kept.tokens;
    for (const l of this.listeners) l.onDelta(kept.text);
  }

  /** Streaming clients currently listening. */
  get listenerCount(): number {
    return this.listeners.size;
  }

  /**
   * Wait for the end as a watcher. A waiting non-streaming client (e.g. a retry with the same
   * client_reference after a streaming client went away) counts as a listener, so the task is not
   * cancelled as abandoned under it. The listener goes when the task ends.
   */
  watch(): Promise<void> {
    this.subscribe({ onDelta: () => {}, onDone: () => {} });
    return this.done;
  }

  /** Listen to deltas and completion; returns the unsubscribe function. */
  subscribe(listener: TaskListener): () => void {
    if (this.finished) {
      listener.onDone(this);
      return () => {};
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** Tasks by session with per-session numeric ids, bounded retention and client_reference dedupe. */
export class TaskStore {
  private readonly bySession = new Map<number, Map<number, Task>>();
  private readonly nextIds = new Map<number, number>();
  private readonly byReference = new Map<string, Task>();
  private totalCreated = 0;

  constructor(
    private readonly retentionPerSession: number,
    private readonly onEvict: (task: Task) => void = () => {},
  ) {}

  /** Create a task (state `created`) and register its client_reference. */
  create(input: NewTask): Task {
    const id = this.nextIds.get(input.sessionId) ?? 0;
    this.nextIds.set(input.sessionId, id + 1);
    const task = new Task(id, input);
    let tasks = this.bySession.get(input.sessionId);
    if (tasks === undefined) {
      tasks = new Map();
      this.bySession.set(input.sessionId, tasks);
    }
    tasks.set(id, task);
    if (input.clientReference !== undefined) this.byReference.set(input.clientReference, task);
    this.totalCreated += 1;
    return task;
  }

  /** The task created earlier under this client_reference, if still retained. */
  findByReference(ref: string): Task | undefined {
    return this.byReference.get(ref);
  }

  /** Forget a task's client_reference (the task never ran, so a retry may run it). */
  releaseReference(task: Task): void {
    const ref = task.input.clientReference;
    if (ref !== undefined && this.byReference.get(ref) === task) this.byReference.delete(ref);
  }

  /** One task, or a TaskNotFoundError. */
  get(sessionId: number, taskId: number): Task {
    const task = this.bySession.get(sessionId)?.get(taskId);
    if (task === undefined) {
      throw new TaskNotFoundError(`task ${taskId} not found in session ${sessionId}`, {
        session_id: sessionId,
        task_id: taskId,
      });
    }
    return task;
  }

  /** Retained tasks of a session, oldest first. */
  list(sessionId: number): Task[] {
    return [...(this.bySession.get(sessionId)?.values() ?? [])];
  }

  /** Count of tasks that are not terminal, over all sessions or one. */
  activeCount(sessionId?: number): number {
    let n = 0;
    for (const [sid, tasks] of this.bySession) {
      if (sessionId !== undefined && sid !== sessionId) continue;
      for (const t of tasks.values()) if (!t.finished) n += 1;
    }
    return n;
  }

  /** Tasks created since start (including evicted ones). */
  get total(): number {
    return this.totalCreated;
  }

  /** Drop the oldest finished tasks of the session beyond the retention bound. */
  evict(sessionId: number): void {
    const tasks = this.bySession.get(sessionId);
    if (tasks === undefined || tasks.size <= this.retentionPerSession) return;
    let excess = tasks.size - this.retentionPerSession;
    for (const [id, t] of tasks) {
      if (excess <= 0) break;
      if (!t.finished) continue; // active tasks are never evicted
      tasks.delete(id);
      this.releaseReference(t);
      this.onEvict(t);
      excess -= 1;
    }
  }
}
