import { createHash } from "node:crypto";
import { parseJsonText } from "@portal/contracts";
import { type Context, Hono } from "hono";
import { agentCard, discovery } from "../core/a2a.js";
import { A2aRpc } from "../core/a2a-rpc.js";
import { FeatureDisabledError, RouterDomainError } from "../core/errors.js";
import type { RouterEnv } from "../http/env.js";
import { apiErrorFromDomain } from "../http/errors.js";

/** A failed A2A task's error: the router error code a REST call would have answered. */
function describeError(err: unknown) {
  if (err instanceof RouterDomainError) {
    const api = apiErrorFromDomain(err);
    return { code: api.code, message: api.message, details: api.details };
  }
  return { code: "internal_error", message: "internal error" };
}

/** `POST /api/v1/a2a`: the JSON-RPC endpoint the card's `url` names (router key required). */
async function rpc(c: Context<RouterEnv>): Promise<Response> {
  const core = c.get("core");
  if (core.features.a2a?.enabled === false) throw new FeatureDisabledError("A2A is disabled");
  const body = parseJsonText(await c.req.text());
  // JSON-RPC answers 200 with an error object for protocol-level failures.
  return c.json(await new A2aRpc(core, core.a2aTasks, describeError).handle(body));
}

function card(c: Context<RouterEnv>): Response {
  const core = c.get("core");
  if (core.features.a2a?.enabled === false)
    throw new FeatureDisabledError("A2A discovery is disabled");
  const body = JSON.stringify(agentCard(core, new URL(c.req.url).origin));
  // v1.0 §8.6: cacheable, with an ETag.
  const etag = `"${createHash("sha256").update(body).digest("hex").slice(0, 32)}"`;
  if (c.req.header("if-none-match") === etag) return c.body(null, 304, { ETag: etag });
  return c.body(body, 200, {
    "Content-Type": "application/json",
    "Cache-Control": "public, max-age=300",
    ETag: etag,
  });
}

/** A2A: one card at the v0.2 and v0.3+/v1.0 well-known paths and the project route, and its JSON-RPC endpoint. */
export const a2aRoutes = new Hono<RouterEnv>()
  .get("/.well-known/agent.json", card)
  .get("/.well-known/agent-card.json", card)
  .get("/api/v1/a2a/agent.json", card)
  .post("/api/v1/a2a", rpc)
  .get("/api/v1/a2a/discovery", (c) => {
    const core = c.get("core");
    if (core.features.a2a?.enabled === false)
      throw new FeatureDisabledError("A2A discovery is disabled");
    return c.json(discovery(core, new URL(c.req.url).origin));
  });
