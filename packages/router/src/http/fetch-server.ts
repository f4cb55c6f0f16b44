import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { getRequestListener } from "@hono/node-server";

type FetchHandler = Parameters<typeof getRequestListener>[0];

/**
 * An HTTP server for a fetch handler, as @hono/node-server's `createAdaptorServer` builds it, but
 * a request node-server cannot turn into a web Request at all (a target such as `*`, a missing or
 * malformed Host header) is answered by `render(true)` instead of node-server's empty 400; any
 * other error it catches before the app by `render(false)`. (`serve()` and `createAdaptorServer`
 * do not pass an error handler through, hence the listener by hand.)
 *
 * `Expect: 100-continue` is answered lazily: Node's default sends `100 Continue` at once, so a
 * client with a bad key or a body over the limit uploads all of it only to be refused. Here the
 * request goes to the app first and `100 Continue` is written only when the app starts reading
 * the body; a refusal decided from the headers (auth, Content-Length over the limit, a
 * Content-Encoding) is the only answer the client gets, before it sends a byte of the body.
 */
export function createFetchServer(
  fetch: FetchHandler,
  render: (malformed: boolean) => Response,
  hostname?: string,
): Server {
  const listener = getRequestListener(fetch, {
    ...(hostname !== undefined && { hostname }),
    errorHandler: (err) => render((err as { name?: unknown } | null)?.name === "RequestError"),
  });
  const server = createServer(listener);
  server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
    continueOnFirstRead(req, res);
    void listener(req, res);
  });
  return server;
}

/** Write `100 Continue` the first time anything reads the request body (never after a reply). */
function continueOnFirstRead(req: IncomingMessage, res: ServerResponse): void {
  const read = req._read;
  req._read = function (this: IncomingMessage, size: number) {
    req._read = read;
    if (!res.headersSent && !res.writableEnded) res.writeContinue();
    return read.call(this, size);
  };
}
