import type { ConnectedMiner } from "../core/miner-hub.js";
import type { RouterCore } from "../core/router-core.js";
import type { Session } from "../core/sessions.js";
import type { Task } from "../core/tasks.js";
import { apiErrorFromDomain } from "./errors.js";

const iso = (ms: number | undefined): string | null =>
  ms === undefined ? null : new Date(ms).toISOString();

/** A session as listed by `/api/v1/sessions`. */
export function sessionView(core: RouterCore, s: Session) {
  return {
    id: s.id,
    model: s.model,
    mode: s.mode,
    miners: s.miners,
    redundancy: s.redundancy,
    private: s.private,
    timeout: s.timeout,
    precommit_timeout: s.precommit_timeout,
    max_tokens: s.max_tokens,
    context_length: s.context_length,
    queue_timeout: s.queue_timeout ?? null,
    is_default: core.sessions.defaultSessionId === s.id,
    source: s.source,
    created_at: iso(s.created_at),
    tasks: { active: core.tasks.activeCount(s.id), retained: core.tasks.list(s.id).length },
    eligible_miners: core.miners.eligible(s).length,
  };
}

/** A connected miner with its stats. */
export function minerView(m: ConnectedMiner) {
  const { assigned, completed, failed, latencyTotalMs, lastLatencyMs } = m.stats;
  return {
    id: m.id,
    engine: m.engine,
    models: m.models,
    capacity: m.capacity,
    active_tasks: m.active.size,
    idle: m.active.size === 0,
    version: m.version ?? null,
    connected_at: iso(m.connectedAt),
    last_seen_at: iso(m.lastSeenAt),
    stats: {
      tasks_assigned: assigned,
      tasks_completed: completed,
      failures: failed,
      avg_latency_ms: completed > 0 ? Math.round(latencyTotalMs / completed) : null,
      last_latency_ms: lastLatencyMs,
    },
  };
}

/** A task in a list. */
export function taskSummary(t: Task) {
  return {
    session_id: t.input.sessionId,
    task_id: t.id,
    state: t.state,
    api_version: t.input.apiVersion,
    model: t.input.model,
    client_reference: t.input.clientReference ?? null,
    replicas: t.input.replicas,
    created_at: iso(t.createdAt),
    finished_at: iso(t.finishedAt),
  };
}

/** A task in full: history, replicas and (unless the session is private) prompt and result. */
export function taskDetail(t: Task) {
  const hidden = t.input.private;
  const error = t.error === undefined ? null : apiErrorFromDomain(t.error);
  return {
    ...taskSummary(t),
    stream: t.input.stream,
    private: hidden,
    timeout: t.input.timeoutS,
    precommit_timeout: t.input.precommitTimeoutS,
    params: t.input.params,
    prompt: hidden || t.input.promptUrn !== undefined ? null : t.input.prompt,
    prompt_urn: t.input.promptUrn ?? null,
    result_urn: t.resultUrn ?? null,
    prompt_tokens: t.input.promptTokens,
    history: t.history.map((h) => ({ state: h.state, at: iso(h.at) })),
    assignments: t.assignments.map((a) => ({
      assignment_id: a.id,
      miner_id: a.minerId,
      status: a.status,
      failure: a.failure ?? null,
      assigned_at: iso(a.assignedAt),
      acknowledged_at: iso(a.acknowledgedAt),
      precommitted_at: iso(a.precommittedAt),
      committed_at: iso(a.committedAt),
      latency_ms: a.committedAt === undefined ? null : a.committedAt - a.assignedAt,
      precommit_hash: a.precommitHash ?? null,
      result_hash: a.resultHash ?? null,
    })),
    result:
      t.result === undefined
        ? null
        : {
            text: hidden ? null : t.result.text,
            finish_reason: t.result.finishReason,
            usage: t.result.usage,
            consensus: t.result.consensus,
            miners: t.result.evidence,
          },
    error: error === null ? null : { code: error.code, message: error.message },
  };
}
