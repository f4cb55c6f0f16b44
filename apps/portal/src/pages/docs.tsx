import { useEffect, useState } from "react";
import { api } from "../api.js";
import type { Session } from "../app.js";
import { Link } from "../router.js";
import { Card, CopyButton, ErrorText, useAction } from "../ui.js";

interface ModelInfo {
  alias: string;
  display_name: string;
  context_length: number;
  max_max_tokens: number;
}

/** Quick start: base URL, auth header, a curl line, the model aliases, the full reference. */
export function DocsPage({ session }: { session: Session }) {
  const { org } = session.membership;
  const [models, setModels] = useState<ModelInfo[] | null>(null);
  const { error, run } = useAction();
  // biome-ignore lint/correctness/useExhaustiveDependencies: reload on org change only
  useEffect(() => {
    void run(async () =>
      setModels(
        (await api<{ data: ModelInfo[] }>("GET", `/portal/api/orgs/${org.id}/models`)).data,
      ),
    );
  }, [org.id]);
  const base = window.location.origin;
  const alias = models?.[0]?.alias ?? "default";
  const curl = `curl -s ${base}/v1/completions \\
  -H "Authorization: Bearer $PORTAL_API_KEY" \\
  -H "Content-Type: application/json" \\
  -d '{"model":"${alias}","prompt":"Explain decentralized AI inference in one paragraph.","max_tokens":64}'`;
  return (
    <>
      <h1>Quick start</h1>
      <Card title="1. Get a key">
        <p>
          Create a key on the <Link href="/portal/keys">API keys</Link> page and store it as{" "}
          <code>PORTAL_API_KEY</code>. It is shown once.
        </p>
      </Card>
      <Card title="2. Call the API">
        <dl className="facts">
          <dt>Base URL</dt>
          <dd>
            <code data-testid="base-url">{base}/v1</code>
          </dd>
          <dt>Auth header</dt>
          <dd>
            <code>Authorization: Bearer cx_live_…</code>
          </dd>
        </dl>
        <pre className="code">{curl}</pre>
        <CopyButton text={curl} label="Copy curl" />
        <p className="muted">
          Answers come in an envelope:{" "}
          <code>{"{ request_id, status, model, router_pool, data, error }"}</code>. Quote the{" "}
          <code>request_id</code> when you contact support.
        </p>
      </Card>
      <Card title="3. Models you can use">
        <ErrorText error={error} />
        {models === null ? (
          <p className="loading">Loading…</p>
        ) : models.length === 0 ? (
          <p className="muted">No models are enabled for your plan yet.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Alias</th>
                <th>Name</th>
                <th>Context</th>
                <th>Max tokens</th>
              </tr>
            </thead>
            <tbody>
              {models.map((m) => (
                <tr key={m.alias}>
                  <td>
                    <code>{m.alias}</code>
                  </td>
                  <td>{m.display_name}</td>
                  <td>{m.context_length.toLocaleString()}</td>
                  <td>{m.max_max_tokens.toLocaleString()}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
      <Card title="Reference">
        <p>
          The full API reference is at <a href="/docs">/docs</a>. Then try a prompt in the{" "}
          <Link href="/portal/playground">playground</Link> and watch it arrive on the{" "}
          <Link href="/portal/usage">usage</Link> page.
        </p>
      </Card>
    </>
  );
}
