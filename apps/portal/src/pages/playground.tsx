import type { CreatedKey } from "@portal/contracts";
import { type FormEvent, useEffect, useRef, useState } from "react";
import { api, formatDate } from "../api.js";
import type { Session } from "../app.js";
import { type StreamEnvelope, streamCompletion } from "../completion-stream.js";
import { Badge, Card, ErrorText, useAction } from "../ui.js";

type KeySource = "temporary" | "pasted";
interface TemporaryKey {
  plaintext: string;
  expiresAt: number;
}
interface Run {
  text: string;
  events: number;
  keepAlives: number;
  phase: "waiting" | "streaming" | "done" | "failed" | "stopped";
  firstTokenMs: number | null;
  /** The last envelope: the final one (usage, cost, timing) or the failure. */
  envelope: StreamEnvelope | null;
  httpStatus: number | null;
}

/** Re-mint a temporary key this long before it expires, so a request never starts on a dying key. */
const EXPIRY_MARGIN_MS = 60_000;

/**
 * Sends a prompt through the real gateway (`POST /v1/completions`, `stream: true`) and shows the
 * answer token by token, then the final envelope. By default it uses a temporary key the portal
 * mints for this tab (15 minutes, a few requests per minute, kept in memory only), so nobody
 * pastes a production key into a web page; pasting a key stays possible (members must).
 */
export function PlaygroundPage({ session }: { session: Session }) {
  const { org, role } = session.membership;
  const canMint = role === "owner" || role === "admin";
  const [source, setSource] = useState<KeySource>(canMint ? "temporary" : "pasted");
  const [pasted, setPasted] = useState(session.lastKey ?? "");
  const temporary = useRef<TemporaryKey | null>(null);
  const [temporaryInfo, setTemporaryInfo] = useState<CreatedKey["key"] | null>(null);
  const [models, setModels] = useState<string[]>([]);
  const [model, setModel] = useState("");
  const [prompt, setPrompt] = useState("Explain decentralized AI inference in one paragraph.");
  const [maxTokens, setMaxTokens] = useState(64);
  const [run, setRun] = useState<Run | null>(null);
  const abort = useRef<AbortController | null>(null);
  const { busy, error, run: act } = useAction();

  // biome-ignore lint/correctness/useExhaustiveDependencies: reload when the org changes only
  useEffect(() => {
    void act(async () => {
      const r = await api<{ data: Array<{ alias: string }> }>(
        "GET",
        `/portal/api/orgs/${org.id}/models`,
      );
      setModels(r.data.map((m) => m.alias));
      setModel((cur) => cur || r.data[0]?.alias || "");
    });
    temporary.current = null;
    setTemporaryInfo(null);
  }, [org.id]);
  useEffect(() => () => abort.current?.abort(), []);

  const keyForRequest = async (): Promise<string> => {
    if (source === "pasted") return pasted.trim();
    const held = temporary.current;
    if (held && held.expiresAt - Date.now() > EXPIRY_MARGIN_MS) return held.plaintext;
    const created = await api<CreatedKey>("POST", `/portal/api/orgs/${org.id}/playground-key`);
    const expiresAt = created.key.expires_at ? Date.parse(created.key.expires_at) : Date.now();
    temporary.current = { plaintext: created.plaintext, expiresAt };
    setTemporaryInfo(created.key);
    return created.plaintext;
  };

  const send = (e: FormEvent) => {
    e.preventDefault();
    void act(async () => {
      const key = await keyForRequest();
      const controller = new AbortController();
      abort.current = controller;
      const started = performance.now();
      let current: Run = {
        text: "",
        events: 0,
        keepAlives: 0,
        phase: "waiting",
        firstTokenMs: null,
        envelope: null,
        httpStatus: null,
      };
      const update = (next: Partial<Run>) => {
        current = { ...current, ...next };
        setRun(current);
      };
      update({});
      const outcome = await streamCompletion(
        key,
        { model, prompt, max_tokens: maxTokens },
        {
          onEnvelope: (env) => {
            const delta = env.data?.choices[0]?.text ?? "";
            update({
              events: current.events + 1,
              text: current.text + delta,
              envelope: env,
              phase: env.status === "failed" ? "failed" : "streaming",
              firstTokenMs:
                current.firstTokenMs ?? (delta ? Math.round(performance.now() - started) : null),
            });
          },
          onKeepAlive: () => update({ keepAlives: current.keepAlives + 1 }),
        },
        controller.signal,
      );
      abort.current = null;
      if (outcome.kind === "done") update({ phase: "done", envelope: outcome.final });
      else if (outcome.kind === "failed") {
        update({ phase: "failed", envelope: outcome.envelope, httpStatus: outcome.httpStatus });
      } else update({ phase: "stopped" });
    });
  };

  const streaming = run?.phase === "waiting" || run?.phase === "streaming";
  return (
    <>
      <h1>Playground</h1>
      <p className="muted">
        Sends a real request through the gateway and streams the answer as the model writes it. It
        counts toward your usage like any other request.
      </p>
      <Card>
        <form className="stack" onSubmit={send}>
          <fieldset className="row">
            <legend>Key</legend>
            <label className="inline">
              <input
                type="radio"
                name="key-source"
                checked={source === "temporary"}
                disabled={!canMint}
                onChange={() => setSource("temporary")}
              />
              Temporary playground key
            </label>
            <label className="inline">
              <input
                type="radio"
                name="key-source"
                checked={source === "pasted"}
                onChange={() => setSource("pasted")}
              />
              Paste one of your keys
            </label>
          </fieldset>
          {source === "temporary" ? (
            <p className="hint" data-testid="temporary-key-note">
              {temporaryInfo
                ? `Using ${temporaryInfo.masked}, valid until ${formatDate(temporaryInfo.expires_at)}. It lives only in this tab.`
                : "A key valid for 15 minutes (10 requests per minute) is created on your first send and kept only in this tab."}
            </p>
          ) : (
            <label>
              API key
              <input
                type="password"
                required
                placeholder="cx_live_…"
                value={pasted}
                onChange={(e) => setPasted(e.target.value)}
                autoComplete="off"
              />
              {!canMint && (
                <span className="hint">
                  Your role ({role}) cannot create keys; ask an owner or admin for one.
                </span>
              )}
            </label>
          )}
          <div className="row">
            <label>
              Model
              <select value={model} onChange={(e) => setModel(e.target.value)}>
                {models.map((m) => (
                  <option key={m} value={m}>
                    {m}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Max tokens
              <input
                type="number"
                min={1}
                max={4096}
                value={maxTokens}
                onChange={(e) => setMaxTokens(Number(e.target.value))}
              />
            </label>
          </div>
          <label>
            Prompt
            <textarea rows={4} value={prompt} onChange={(e) => setPrompt(e.target.value)} />
          </label>
          <ErrorText error={error} />
          <div className="toolbar">
            <button type="submit" disabled={busy || !model}>
              {streaming ? "Streaming…" : "Send"}
            </button>
            {streaming && (
              <button type="button" className="secondary" onClick={() => abort.current?.abort()}>
                Stop
              </button>
            )}
          </div>
        </form>
      </Card>
      {run && <RunView run={run} />}
    </>
  );
}

const PHASE_TONE = {
  waiting: "muted",
  streaming: "warn",
  done: "ok",
  failed: "bad",
  stopped: "muted",
} as const;

function RunView({ run }: { run: Run }) {
  const env = run.envelope;
  const usage = env?.data?.usage;
  const timing = env?.data?.timing;
  return (
    <>
      <Card
        title="Answer"
        actions={
          <span data-testid="stream-phase">
            <Badge tone={PHASE_TONE[run.phase]}>{run.phase}</Badge>
          </span>
        }
      >
        <p className="answer" data-testid="answer" aria-live="polite">
          {run.text || (run.phase === "waiting" ? "Waiting for the model…" : "")}
        </p>
        {run.phase === "failed" && env?.error && (
          <p className="error" role="alert" data-testid="stream-error">
            <code>{env.error.code}</code>: {env.error.message}
            {run.httpStatus ? ` (HTTP ${run.httpStatus})` : ""}
          </p>
        )}
        <p className="muted" data-testid="stream-stats">
          {run.events} events
          {run.keepAlives > 0 ? ` · ${run.keepAlives} keep-alives` : ""}
          {run.firstTokenMs !== null ? ` · first token after ${run.firstTokenMs} ms` : ""}
          {env?.request_id ? (
            <>
              {" "}
              · request id <code data-testid="request-id">{env.request_id}</code>
            </>
          ) : null}
        </p>
        {usage && (
          <dl className="facts" data-testid="usage-facts">
            <dt>Tokens</dt>
            <dd>
              {usage.prompt_tokens} in · {usage.completion_tokens} out · {usage.total_tokens} total
            </dd>
            <dt>Cost</dt>
            <dd data-testid="cost">
              {usage.cost.amount} {usage.cost.currency}
            </dd>
            {timing && (
              <>
                <dt>Timing</dt>
                <dd>
                  queue {timing.queue_ms} ms · upstream {timing.upstream_ms} ms · total{" "}
                  {timing.total_ms} ms
                </dd>
              </>
            )}
          </dl>
        )}
      </Card>
      {env && (run.phase === "done" || run.phase === "failed") && (
        <Card title={run.phase === "done" ? "Final envelope" : "Failure envelope"}>
          <pre className="code" data-testid="envelope">
            {JSON.stringify(env, null, 2)}
          </pre>
        </Card>
      )}
    </>
  );
}
