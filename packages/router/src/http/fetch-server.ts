import { createServer, type Server } from "node:http";
import { getRequestListener } from "@hono/node-server";

type FetchHandler = Parameters<typeof getRequestListener>[0];

/**
 * An HTTP server for a fetch handler, as @hono/node-server's `createAdaptorServer` builds it, but
 * a request node-server cannot turn into a web Request at all (a target such as `*`, a missing or
 * malformed Host header) is answered by `render(true)` instead of node-server's empty 400; any
 * other error it catches before the app by `render(false)`. (`serve()` and `createAdaptorServer`
 * do not pass an error handler through, hence the listener by hand.)
 */
export function createFetchServer(
  fetch: FetchHandler,
  render: (malformed: boolean) => Response,
  hostname?: string,
): Server {
  return createServer(
    getRequestListener(fetch, {
      ...(hostname !== undefined && { hostname }),
      errorHandler: (err) => render((err as { name?: unknown } | null)?.name === "RequestError"),
    }),
  );
}
