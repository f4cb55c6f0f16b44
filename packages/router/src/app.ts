import { Hono } from "hono";
import type { RouterCore } from "./core/router-core.js";
import { requireApiKey } from "./http/auth.js";
import { fastBodyLimit } from "./http/body-limit.js";
import type { RouterEnv } from "./http/env.js";
import { handleError, RouterApiError, respondError } from "./http/errors.js";
import { a2aRoutes } from "./routes/a2a.js";
import { completionRoutes } from "./routes/completions.js";
import { delegateRoutes } from "./routes/delegate.js";
import { factcheckRoutes } from "./routes/factcheck.js";
import { mcpRoutes } from "./routes/mcp.js";
import { metaRoutes } from "./routes/meta.js";
import { offchainRoutes } from "./routes/offchain.js";
import { privacyRoutes } from "./routes/privacy.js";
import { probeRoutes } from "./routes/probes.js";
import { sessionRoutes } from "./routes/sessions.js";
import { taskRoutes } from "./routes/tasks.js";
import { trialRoutes } from "./routes/trial.js";
import { validateRoutes } from "./routes/validate.js";
import { x402Routes } from "./routes/x402.js";

/** Bodies over the core's limit are refused before anything reads them, before the key check. */
function bodyLimitOf(core: RouterCore) {
  return fastBodyLimit<RouterEnv>({
    maxSize: core.maxBodyBytes,
    onError: () => {
      throw new RouterApiError(
        "payload_too_large",
        `request body exceeds ${core.maxBodyBytes} bytes`,
        { limit_bytes: core.maxBodyBytes },
      );
    },
    onEncoded: (encoding) => {
      throw new RouterApiError(
        "invalid_request",
        `Content-Encoding "${encoding.slice(0, 40)}" is not supported on request bodies; send the body uncompressed`,
        { content_encoding: encoding.slice(0, 40) },
      );
    },
  });
}

/** The MCP-only app served on `mcp.listen` (router key required, everything else 404). */
export function createMcpApp(core: RouterCore): Hono<RouterEnv> {
  const app = new Hono<RouterEnv>();
  app.use("*", async (c, next) => {
    c.set("core", core);
    await next();
  });
  app.use("*", bodyLimitOf(core));
  app.use("*", requireApiKey);
  app.route("/", mcpRoutes(core, true));
  app.notFound((c) =>
    respondError(c, new RouterApiError("not_found", `no route ${c.req.method} ${c.req.path}`)),
  );
  app.onError(handleError);
  return app;
}

/** Build the router's HTTP app around a core. No I/O: tests call `app.request(...)`. */
export function createRouterApp(core: RouterCore): Hono<RouterEnv> {
  const app = new Hono<RouterEnv>();
  app.use("*", async (c, next) => {
    c.set("core", core);
    await next();
  });
  app.use("*", bodyLimitOf(core));
  app.route("/", probeRoutes); // before the bearer check: probes are unauthenticated
  app.use("*", requireApiKey);
  app.route("/", metaRoutes);
  app.route("/", sessionRoutes);
  app.route("/", taskRoutes);
  app.route("/", completionRoutes);
  app.route("/", delegateRoutes);
  app.route("/", validateRoutes);
  app.route("/", factcheckRoutes);
  app.route("/", trialRoutes(core));
  app.route("/", x402Routes(core));
  app.route("/", a2aRoutes);
  app.route("/", privacyRoutes);
  app.route("/", offchainRoutes);
  app.route("/", mcpRoutes(core));
  app.notFound((c) =>
    respondError(c, new RouterApiError("not_found", `no route ${c.req.method} ${c.req.path}`)),
  );
  app.onError(handleError);
  return app;
}
