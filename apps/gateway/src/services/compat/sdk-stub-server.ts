import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { CompletionData } from "@portal/contracts";

/*
 * Test support for the compat layer (imported by *.test.ts only): a tiny node:http server on an
 * ephemeral port that records what the official SDKs send and answers with whatever the test's
 * handler returns (our builders' output), so the SDKs parse real bytes over a real socket.
 */

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface StubReply {
  status: number;
  headers?: Record<string, string>;
  /** The whole body, or SSE frames written one by one (to exercise incremental parsing). */
  body: string | string[];
}

export type StubHandler = (req: RecordedRequest) => StubReply;

export interface StubServer {
  baseUrl: string;
  requests: RecordedRequest[];
  /** Replace the handler for the following requests. */
  reply(handler: StubHandler): void;
  close(): Promise<void>;
}

/** Start the stub on 127.0.0.1:0. */
export async function startStubServer(): Promise<StubServer> {
  const requests: RecordedRequest[] = [];
  let handler: StubHandler = () => ({ status: 500, body: "{}" });
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const recorded: RecordedRequest = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      requests.push(recorded);
      let reply: StubReply;
      try {
        reply = handler(recorded);
      } catch (err) {
        reply = { status: 599, body: String(err) };
      }
      const frames = Array.isArray(reply.body);
      res.writeHead(reply.status, {
        "content-type": frames ? "text/event-stream" : "application/json",
        ...reply.headers,
      });
      if (!Array.isArray(reply.body)) {
        res.end(reply.body);
        return;
      }
      const parts = [...reply.body];
      const writeNext = (): void => {
        const part = parts.shift();
        if (part === undefined) {
          res.end();
          return;
        }
        res.write(part);
        setImmediate(writeNext);
      };
      writeNext();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    reply(h) {
      handler = h;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** A successful `CompletionData` as the pipeline produces it. */
export function sampleCompletionData(overrides: Partial<CompletionData> = {}): CompletionData {
  return {
    id: "cmpl_01JTESTCOMPLETION000000000",
    object: "text_completion",
    created: 1_764_000_000,
    model: "default",
    choices: [{ index: 0, text: "Hello from Portal.", finish_reason: "stop" }],
    usage: {
      prompt_tokens: 12,
      completion_tokens: 5,
      total_tokens: 17,
      cost: { amount: "0.000017", currency: "USD" },
    },
    timing: { queue_ms: 1, upstream_ms: 20, total_ms: 22 },
    ...overrides,
  };
}
