import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface FixtureRouter {
  url: string;
  /** Completions answered so far. */
  served(): number;
  /** Completion requests received so far (answered or not yet). */
  received(): number;
  close(): Promise<void>;
}

/**
 * A fast, well-behaved router stand-in for load and accounting tests (and the benchmark): it
 * answers /api/v3/completions/{session} with a valid router body whose usage is deterministic
 * (prompt_tokens = `promptTokens`, completion_tokens = the request's max_tokens), after
 * `delayMs`; with `stream: true` it sends the first chunk at once and the rest after `delayMs`.
 * Real routers are used for behaviour tests; this isolates the gateway's own cost.
 */
export async function startFixtureRouter(
  opts: { delayMs?: number; promptTokens?: number; port?: number } = {},
): Promise<FixtureRouter> {
  let served = 0;
  let received = 0;
  let task = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const match = /^\/api\/v3\/completions\/(\d+)$/.exec(req.url ?? "");
      if (req.method !== "POST" || !match) {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: "not found" }));
        return;
      }
      let body: { max_tokens?: number; client_reference?: string; stream?: boolean } = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        // answered below with the defaults
      }
      received++;
      const completion = body.max_tokens ?? 16;
      const prompt = opts.promptTokens ?? 10;
      if (body.stream) {
        // SSE: the first chunk at once (what time-to-first-byte measures), then the rest.
        served++;
        const base = {
          id: `task-${++task}`,
          object: "text_completion",
          created: 0,
          model: "fixture",
        };
        const frame = (o: object) => `data: ${JSON.stringify(o)}\n\n`;
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(frame({ ...base, choices: [{ index: 0, text: "ok", finish_reason: null }] }));
        setTimeout(() => {
          res.end(
            `${frame({
              ...base,
              choices: [{ index: 0, text: " ok", finish_reason: "length" }],
              usage: {
                prompt_tokens: prompt,
                completion_tokens: completion,
                total_tokens: prompt + completion,
              },
            })}data: [DONE]\n\n`,
          );
        }, opts.delayMs ?? 0);
        return;
      }
      const answer = () => {
        served++;
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            id: `task-${++task}`,
            object: "text_completion",
            created: Math.floor(Date.now() / 1000),
            model: "fixture",
            choices: [
              { index: 0, text: "ok ".repeat(Math.min(completion, 50)), finish_reason: "length" },
            ],
            usage: {
              prompt_tokens: prompt,
              completion_tokens: completion,
              total_tokens: prompt + completion,
            },
            session_id: Number(match[1]),
            task_id: task,
            client_reference: body.client_reference ?? null,
          }),
        );
      };
      if (opts.delayMs) setTimeout(answer, opts.delayMs);
      else answer();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    served: () => served,
    received: () => received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
