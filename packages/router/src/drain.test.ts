import { afterEach, describe, expect, it } from "vitest";
import { AUTH, startTestRouter, type TestRouter, waitFor } from "./testing/harness.js";

// Router drain (SIGTERM in apps/router): new tasks get 503, readiness turns 503 `draining`,
// accepted tasks run to the end within the bound, then the node closes.

let t: TestRouter | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const completion = (ref: string) => ({
  prompt: "drain me",
  max_tokens: 8,
  client_reference: ref,
});

describe("router node drain", () => {
  it("refuses new tasks with 503, keeps readiness 503, finishes the in-flight task, then closes", async () => {
    t = await startTestRouter();
    const held = await t.addRaw("held", { text: " finished after drain" });
    const ready = await fetch(`${t.node.url}/readyz`);
    expect(ready.status, await ready.clone().text()).toBe(200);

    const inFlight = t.post("/api/v3/completions/0", completion("ref-in-flight"));
    await waitFor(() => held.tasks.length === 1);

    const drained = t.node.drain({ timeoutMs: 10_000 });
    expect(t.node.core.draining).toBe(true);

    const probe = await fetch(`${t.node.url}/readyz`);
    const probeBody = await probe.json();
    expect(probe.status, JSON.stringify(probeBody)).toBe(503);
    expect(probeBody).toMatchObject({ status: "unavailable", reason: "draining" });
    expect((await fetch(`${t.node.url}/livez`)).status).toBe(200);

    const refused = await t.post("/api/v3/completions/0", completion("ref-new"));
    const refusedBody = await refused.json();
    expect(refused.status, JSON.stringify(refusedBody)).toBe(503);
    expect(refusedBody).toMatchObject({
      error: { code: "no_miners_available", details: { draining: true } },
    });

    // A retry of the task already accepted is still answered from that task, not refused.
    const retry = t.post("/api/v3/completions/0", completion("ref-in-flight"));

    held.release(true);
    const done = await inFlight;
    const doneBody = (await done.json()) as { task_id: number; choices: Array<{ text: string }> };
    expect(done.status, JSON.stringify(doneBody)).toBe(200);
    expect(doneBody.choices[0]?.text).toBe(" finished after drain");
    const retried = await retry;
    expect(retried.status).toBe(200);
    expect(((await retried.json()) as { task_id: number }).task_id).toBe(doneBody.task_id);

    expect(await drained).toBe(true);
    await expect(fetch(`${t.node.url}/livez`)).rejects.toThrow();
  });

  it("gives up at the bound with the task still running and reports it", async () => {
    t = await startTestRouter();
    const held = await t.addRaw("held");
    const inFlight = t
      .post("/api/v3/completions/0", completion("ref-stuck"))
      .then((r) => r.status)
      .catch((err: unknown) => err);
    await waitFor(() => held.tasks.length === 1);
    expect(await t.node.drain({ timeoutMs: 300 })).toBe(false);
    // The connection carrying the unfinished task was cut when the node closed.
    expect(await inFlight).toBeInstanceOf(Error);
    const status = await fetch(`${t.node.url}/api/v1/status`, { headers: AUTH }).catch(
      (err: unknown) => err,
    );
    expect(status).toBeInstanceOf(Error);
  });
});
