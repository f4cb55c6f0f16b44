import type { ErrorCode } from "@portal/contracts";
import type { Context } from "hono";
import type { StreamEnd } from "../services/streaming/serve-stream.js";
import type { AppEnv } from "../types.js";

/** How a request's answer went, once it is over. */
export interface Answered {
  latencyMs: number;
  /** Time spent on routers (excluded from the gateway's overhead). */
  upstreamMs: number;
  /** The failure's code, including one a stream reported after its 200. */
  errorCode: ErrorCode | null;
}

/**
 * Run `record` once the answer is over: at once for an ordinary response, and for a stream when
 * it ends (its whole duration, and the code of a failure that came after the 200, which the
 * status alone cannot tell). The request log and the metrics both record through this.
 */
export function whenAnswered(c: Context<AppEnv>, record: (answered: Answered) => void): void {
  const done = (end: StreamEnd | null) =>
    record({
      latencyMs: performance.now() - c.get("receivedAt"),
      upstreamMs: end?.upstreamMs ?? c.get("upstreamMs") ?? 0,
      errorCode: end?.errorCode ?? c.get("errorCode") ?? null,
    });
  const streamEnd = c.get("streamEnd");
  if (streamEnd) void streamEnd.then(done);
  else done(null);
}
