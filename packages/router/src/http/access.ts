import { MissingSessionError } from "../core/errors.js";
import type { RouterCore } from "../core/router-core.js";
import type { Session } from "../core/sessions.js";

/** How a request got in: the router key, the trial quota, or an x402 payment. */
export interface Access {
  via: "key" | "trial" | "x402";
  /** A session fixed by the route's policy: the caller's session_id is then ignored. */
  fixedSessionId?: number | undefined;
}

export const KEY_ACCESS: Access = { via: "key" };

/**
 * The session a request runs on: fixed by policy, else the path/body one, else the router's
 * default — except on trial routes, where a caller without a fixed trial session must name one.
 */
export function sessionFor(
  core: RouterCore,
  access: Access,
  requested: number | undefined,
): Session {
  const id = access.fixedSessionId ?? requested;
  if (id === undefined && access.via === "trial") {
    throw new MissingSessionError(
      "trial routes without a fixed trial session need a session_id in the path or body",
    );
  }
  return core.sessions.resolve(id);
}
