import type { RouterCompletionChunk } from "@portal/contracts";
import type { RouterCore } from "../core/router-core.js";
import type { Task } from "../core/tasks.js";
import { apiErrorFromDomain, errorBody, RouterApiError } from "./errors.js";

const KEEP_ALIVE_MS = 10_000;

/**
 * Stream a task as SSE: one text-completion chunk per delta, a last chunk with finish_reason and
 * usage (or an error event), then `data: [DONE]`. A client that goes away only unsubscribes; the
 * task keeps running so a deduplicated retry still gets its result.
 */
export function streamTask(core: RouterCore, task: Task): Response {
  const encoder = new TextEncoder();
  let cleanup = (): void => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let open = true;
      const send = (line: string): void => {
        if (open) controller.enqueue(encoder.encode(line));
      };
      const chunk = (
        text: string,
        finish: string | null,
        withUsage: boolean,
      ): RouterCompletionChunk => {
        const base: RouterCompletionChunk = {
          id: core.completionId(task),
          object: "text_completion",
          created: Math.floor(task.createdAt / 1000),
          model: task.input.model,
          choices: [{ index: 0, text, finish_reason: finish }],
          session_id: task.input.sessionId,
          task_id: task.id,
        };
        if (withUsage && task.result !== undefined) {
          const u = task.result.usage;
          base.usage = { ...u, total_tokens: u.prompt_tokens + u.completion_tokens };
        }
        return base;
      };
      const keepAlive = setInterval(() => send(": keep-alive\n\n"), KEEP_ALIVE_MS);
      let unsubscribe = (): void => {};
      cleanup = () => {
        open = false;
        clearInterval(keepAlive);
        unsubscribe();
      };
      unsubscribe = task.subscribe({
        onDelta: (text) => send(`data: ${JSON.stringify(chunk(text, null, false))}\n\n`),
        onDone: (t) => {
          if (t.result?.text.startsWith(t.streamed)) {
            const full = t.result.text;
            // Whatever the live stream did not show yet (all of it when redundancy > 1).
            const rest = full.slice(t.streamed.length);
            t.streamed = full;
            send(`data: ${JSON.stringify(chunk(rest, t.result.finishReason, true))}\n\n`);
          } else if (t.result !== undefined) {
            // What was streamed is not how the result begins: either the miner that streamed
            // failed mid-way and its replacement wrote something else, or the miner committed
            // other text than it streamed. Streamed text cannot be retracted, so say which. The
            // task's result is kept, and a retry with the same client_reference returns it
            // without running the task again.
            const reassigned = t.assignments.some((a) => a.status === "failed");
            const err = new RouterApiError(
              "task_failed",
              reassigned
                ? "the streaming miner failed mid-answer and the reassigned result differs; retry with the same client_reference for the full result"
                : "the miner's committed answer differs from the text it streamed; retry with the same client_reference for the committed result",
              { session_id: t.input.sessionId, task_id: t.id },
            );
            send(`data: ${JSON.stringify(errorBody(err))}\n\n`);
          } else {
            const err =
              t.error === undefined
                ? new RouterApiError("internal_error", "task ended without a result")
                : apiErrorFromDomain(t.error);
            send(`data: ${JSON.stringify(errorBody(err))}\n\n`);
          }
          send("data: [DONE]\n\n");
          cleanup();
          controller.close();
        },
      });
    },
    cancel() {
      cleanup();
      core.abandonIfUnwatched(task);
    },
  });
  return new Response(body, {
    status: 200,
    headers: {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    },
  });
}
