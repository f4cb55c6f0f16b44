import { type FormEvent, useState } from "react";
import { api } from "../api.js";
import { Card, ErrorText, useAction } from "../ui.js";

/** Look a request up by its request_id (request log + usage event). */
export function RequestsPage() {
  const [id, setId] = useState("");
  const [result, setResult] = useState<unknown>(null);
  const { busy, error, run } = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setResult(null);
    void run(async () =>
      setResult(await api("GET", `/admin/api/requests/${encodeURIComponent(id.trim())}`)),
    );
  };
  return (
    <>
      <h1>Request lookup</h1>
      <form className="inline-form" onSubmit={submit}>
        <input
          required
          placeholder="req_01…"
          value={id}
          onChange={(e) => setId(e.target.value)}
          aria-label="Request id"
        />
        <button type="submit" disabled={busy}>
          Look up
        </button>
      </form>
      <ErrorText error={error} />
      {result !== null && (
        <Card>
          <pre className="code">{JSON.stringify(result, null, 2)}</pre>
        </Card>
      )}
    </>
  );
}
