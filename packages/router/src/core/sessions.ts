import type { RouterConfig, SessionConfig } from "../config.js";
import { MissingSessionError, SessionConflictError, SessionNotFoundError } from "./errors.js";

/** Defaults a session falls back to when its config leaves a field out. */
export const SESSION_DEFAULTS = {
  redundancy: 1,
  timeout: 60,
  precommit_timeout: 30,
  max_tokens: 256,
  context_length: 8192,
} as const;

/** A session with every default resolved. */
export interface Session {
  id: number;
  model: string;
  mode: "dedicated" | "ephemeral";
  miners: string[];
  redundancy: number;
  private: boolean;
  timeout: number;
  precommit_timeout: number;
  max_tokens: number;
  context_length: number;
  /** Seconds a task may wait for a free miner; undefined = the node's default. */
  queue_timeout: number | undefined;
  created_at: number;
  source: "config" | "api";
}

/** Resolve a session config's defaults. */
export function toSession(cfg: SessionConfig, source: Session["source"]): Session {
  const timeout = cfg.timeout ?? SESSION_DEFAULTS.timeout;
  return {
    id: cfg.id,
    model: cfg.model,
    mode: cfg.mode,
    miners: cfg.miners ?? [],
    redundancy: cfg.redundancy ?? SESSION_DEFAULTS.redundancy,
    private: cfg.private ?? false,
    timeout,
    // The precommit window never outlives the task itself.
    precommit_timeout: Math.min(
      cfg.precommit_timeout ?? SESSION_DEFAULTS.precommit_timeout,
      timeout,
    ),
    max_tokens: cfg.max_tokens ?? SESSION_DEFAULTS.max_tokens,
    context_length: cfg.context_length ?? SESSION_DEFAULTS.context_length,
    queue_timeout: cfg.queue_timeout,
    created_at: Date.now(),
    source,
  };
}

/** Sessions by numeric id, plus the configured default. */
export class SessionRegistry {
  private readonly sessions = new Map<number, Session>();
  readonly defaultSessionId: number | undefined;

  constructor(config: RouterConfig) {
    for (const s of config.sessions) this.sessions.set(s.id, toSession(s, "config"));
    this.defaultSessionId = config.default_session_id;
  }

  /** All sessions, ordered by id. */
  list(): Session[] {
    return [...this.sessions.values()].sort((a, b) => a.id - b.id);
  }

  /** The session with this id, or a SessionNotFoundError. */
  get(id: number): Session {
    const s = this.sessions.get(id);
    if (s === undefined)
      throw new SessionNotFoundError(`session ${id} not found`, { session_id: id });
    return s;
  }

  /** The named session, else the default one, else a MissingSessionError. */
  resolve(id: number | undefined): Session {
    const wanted = id ?? this.defaultSessionId;
    if (wanted === undefined) {
      throw new MissingSessionError(
        "no session_id in the path or body, and the router has no default session",
      );
    }
    return this.get(wanted);
  }

  /** Add a session (id chosen when omitted); refuses an id already in use. */
  create(cfg: Omit<SessionConfig, "id"> & { id?: number | undefined }): Session {
    const id = cfg.id ?? this.nextId();
    if (this.sessions.has(id)) {
      throw new SessionConflictError(`session ${id} already exists`, { session_id: id });
    }
    const session = toSession({ ...cfg, id }, "api");
    this.sessions.set(id, session);
    return session;
  }

  /** Number of sessions. */
  get size(): number {
    return this.sessions.size;
  }

  private nextId(): number {
    let max = -1;
    for (const id of this.sessions.keys()) max = Math.max(max, id);
    return max + 1;
  }
}
