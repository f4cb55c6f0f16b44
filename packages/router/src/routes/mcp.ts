import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { parseJsonText } from "@portal/contracts";
import { Hono } from "hono";
import { createRouterMcpServer } from "../core/mcp.js";
import type { RouterCore } from "../core/router-core.js";
import type { RouterEnv } from "../http/env.js";

/**
 * MCP over Streamable HTTP at `mcp.path` (default `/mcp/messages`), stateless: each request gets
 * its own server and transport, so nothing is kept between calls. Behind the router key. On the
 * router's port, or only on `mcp.listen` (host:port) when that is configured.
 */
export function mcpRoutes(core: RouterCore, onOwnListener = false): Hono<RouterEnv> {
  const app = new Hono<RouterEnv>();
  const cfg = core.features.mcp;
  if (cfg?.enabled !== true) return app;
  // With `mcp.listen` the MCP path is served only on that listener (see node.ts).
  if ((cfg.listen !== undefined) !== onOwnListener) return app;
  app.all(cfg.path, async (c) => {
    // The SDK parses the body itself; a body nested past MAX_JSON_DEPTH is refused first, as on
    // every other route (its recursive handling would otherwise overflow the stack).
    let parsedBody: unknown;
    if (c.req.method === "POST") {
      const read = parseJsonText(await c.req.raw.clone().text());
      if (!read.ok && read.tooDeep) {
        return c.json(
          { jsonrpc: "2.0", id: null, error: { code: -32600, message: read.message } },
          400,
        );
      }
      if (read.ok) parsedBody = read.value;
    }
    const server = createRouterMcpServer(core);
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    await server.connect(transport);
    try {
      return await transport.handleRequest(
        c.req.raw,
        parsedBody === undefined ? undefined : { parsedBody },
      );
    } finally {
      // JSON responses are complete when returned; release the per-request server.
      void server.close();
    }
  });
  return app;
}
