import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A handler of the test web server, by path. */
export type WebRoute = (req: IncomingMessage, res: ServerResponse) => void;

/** A real HTTP server on 127.0.0.1 (port 0) serving fixed routes to web-fetch tests. */
export interface TestWebServer {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  port: number;
  /** Paths requested, in order. */
  hits: string[];
  close(): Promise<void>;
}

/** Start the server; unknown paths answer 404 text. */
export async function startWebServer(routes: Record<string, WebRoute>): Promise<TestWebServer> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    const path = req.url ?? "/";
    hits.push(path);
    const route = routes[path.split("?")[0] ?? path];
    if (route === undefined) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    route(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A route answering `body` with `contentType` (and a Content-Length). */
export function serve(contentType: string, body: string | Buffer, status = 200): WebRoute {
  return (_req, res) => {
    const buf = typeof body === "string" ? Buffer.from(body) : body;
    res.writeHead(status, { "content-type": contentType, "content-length": buf.length }).end(buf);
  };
}

/** A route redirecting to `location`. */
export function redirect(location: string, status = 302): WebRoute {
  return (_req, res) => {
    res.writeHead(status, { location }).end();
  };
}
