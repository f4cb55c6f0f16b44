import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type FakeBehaviour = (req: IncomingMessage, body: string, res: ServerResponse) => void;

/**
 * A deliberately broken router for fault tests (garbage bodies, hangs, 503s). Real routers are
 * used everywhere else; this only stands in for failure modes a healthy router cannot produce.
 */
export async function startFakeRouter(behaviour: FakeBehaviour): Promise<{
  url: string;
  requests: Array<{ path: string; body: string; auth: string | undefined }>;
  close(): Promise<void>;
}> {
  const requests: Array<{ path: string; body: string; auth: string | undefined }> = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      requests.push({ path: req.url ?? "", body, auth: req.headers.authorization });
      behaviour(req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A valid router completion body (what a fake router answers with when it answers well). */
export function routerAnswer(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: "cmpl-1",
    object: "text_completion",
    created: 1,
    model: "demo",
    choices: [{ index: 0, text: "fine", finish_reason: "stop" }],
    usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
    session_id: 0,
    task_id: 1,
    ...fields,
  };
}

/** A loopback URL nothing listens on (a router that is down). */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
