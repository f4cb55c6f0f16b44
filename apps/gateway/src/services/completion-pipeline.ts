import { type CompletionRequest, okEnvelope } from "@portal/contracts";
import { NoHealthyTargetError, type RateLimitInfo } from "../domain-errors.js";
import type { ClientGoneSignal } from "../lib/client-gone.js";
import {
  type CompletionContext,
  dispatchCompletion,
  planCompletion,
  resolveModelRoute,
  settleReservation,
} from "./completions.js";
import { passGate } from "./request-gate.js";
import type { Services } from "./services.js";

export interface CompletionOutcome {
  status: number;
  /** The envelope as JSON text (exactly what is stored for idempotent replays). */
  body: string;
  replayed: boolean;
  upstreamMs: number;
  poolName: string | null;
}

/**
 * The whole enforced path of POST /v1/completions after validation:
 * idempotency → alias → limits → balance reservation → dispatch → settle → usage.
 * `onLimits` receives the X-RateLimit-* figures as soon as they are known (so even failures
 * after admission carry them). The concurrency slot and any reservation are released on every
 * path: success, error, and a client that went away (the handler still runs to the end).
 */
export async function serveCompletion(
  services: Services,
  args: {
    ctx: CompletionContext;
    input: CompletionRequest;
    /** Chat routes: the messages already rendered with the model's template. */
    renderedPrompt?: string;
    rawBody: string;
    idempotencyKey: string | undefined;
    onRoute: (poolName: string) => void;
    onLimits: (info: RateLimitInfo) => void;
    /** Time spent on routers by a request that then failed (its outcome carries it otherwise). */
    onUpstreamMs?: (ms: number) => void;
    /** The client's connection: closing it aborts the router request (ClientGoneError). */
    signal?: ClientGoneSignal | undefined;
  },
): Promise<CompletionOutcome> {
  const { ctx, input } = args;
  const claim = args.idempotencyKey
    ? await services.idempotency.claim({
        orgId: ctx.key.orgId,
        key: args.idempotencyKey,
        route: ctx.route,
        body: args.rawBody,
        requestId: ctx.requestId,
        lockMs: 10 * 60_000,
      })
    : null;
  if (claim?.kind === "replay") {
    return {
      status: claim.status,
      body: claim.body,
      replayed: true,
      upstreamMs: 0,
      poolName: null,
    };
  }
  try {
    const route = await resolveModelRoute(services, ctx.key, input.model);
    args.onRoute(route.pool.name);
    const plan = planCompletion(services, {
      ctx,
      input,
      route,
      ...(args.renderedPrompt !== undefined ? { renderedPrompt: args.renderedPrompt } : {}),
    });
    if (!services.selector.serves(route.pool)) throw new NoHealthyTargetError(route.pool.name);
    const gate = await passGate(services, { ctx, plan, route, onLimits: args.onLimits });
    const { admission, reservation } = gate;
    let neverRan = false;
    try {
      const data = await dispatchCompletion(services, {
        ctx,
        plan,
        route,
        settle: settleReservation(reservation),
        // Issued in the same tick as the settlement and the usage append: with
        // auto-pipelining all of them share one Redis round trip.
        alongside: (totalTokens) => [
          admission
            .finish(totalTokens)
            .catch((err) => services.logger.warn({ err }, "limit window update failed")),
        ],
        ...(args.onUpstreamMs !== undefined && { onUpstreamMs: args.onUpstreamMs }),
        ...(args.signal !== undefined && { signal: args.signal }),
      });
      const body = JSON.stringify(
        okEnvelope(
          { requestId: ctx.requestId, model: input.model, routerPool: route.pool.name },
          data,
        ),
      );
      if (claim?.kind === "owner") await claim.complete(200, body);
      return {
        status: 200,
        body,
        replayed: false,
        upstreamMs: data.timing.upstream_ms,
        poolName: route.pool.name,
      };
    } catch (err) {
      neverRan = err instanceof NoHealthyTargetError;
      throw err;
    } finally {
      // Settled reservations and released slots ignore this; errors give both back here, and a
      // request no router accepted is uncounted from the limits too.
      await (neverRan ? gate.refund() : gate.release());
    }
  } catch (err) {
    // Only successes are stored: a failure charged nothing, so a retry may run again.
    if (claim?.kind === "owner") {
      await claim
        .abandon()
        .catch((e) => services.logger.warn({ err: e }, "idempotency abandon failed"));
    }
    throw err;
  }
}
