import {
  type CompletionRequest,
  type ErrorCode,
  FinishReason,
  type RouterUsage,
} from "@portal/contracts";
import { countTokens } from "@portal/router/tokens";
import type { RateLimitInfo } from "../../domain-errors.js";
import {
  NoHealthyTargetError,
  UpstreamFailedError,
  UpstreamTimeoutError,
} from "../../domain-errors.js";
import type { ModelRoute, TargetInfo } from "../catalog.js";
import type { CatalogError } from "../compat/common.js";
import {
  boundedUsage,
  type CompletionContext,
  planCompletion,
  promptTokensOf,
  recordCompletionUsage,
  settleReservation,
  warnOverReported,
} from "../completions.js";
import { passGate } from "../request-gate.js";
import type { Services } from "../services.js";
import { type RouterStreamEvent, TargetUnavailableError } from "../upstream/router-client.js";
import type { StreamEncoder } from "./encoder.js";

/** Keep-alive comment cadence while the router is quiet (prefill, precommit). */
const DEFAULT_KEEP_ALIVE_MS = 5_000;

export interface StreamArgs {
  ctx: CompletionContext;
  input: CompletionRequest;
  route: ModelRoute;
  /** A prompt already rendered with the model's template (chat routes). */
  renderedPrompt?: string;
  encoder: StreamEncoder;
  onLimits: (info: RateLimitInfo) => void;
  /** Once the stream is over: how it ended (request logs record the whole stream). */
  onEnd?: (end: StreamEnd) => void;
}

/** How a stream ended: its failure's code (null when it finished or the client left). */
export interface StreamEnd {
  errorCode: ErrorCode | null;
  upstreamMs: number;
}

/**
 * The streamed completion path: limits, reservation and target choice happen before the first
 * byte (so their failures are ordinary HTTP errors and connect errors / 503s fail over); then
 * router events are relayed through the encoder. A client that goes away aborts the upstream
 * request and is billed for what was generated (prompt + streamed text); a router failure after
 * the first byte becomes an error event and costs the customer nothing.
 */
export async function openCompletionStream(
  services: Services,
  args: StreamArgs,
): Promise<ReadableStream<Uint8Array>> {
  const { ctx, route, encoder } = args;
  const plan = planCompletion(services, {
    ctx,
    input: args.input,
    route,
    ...(args.renderedPrompt !== undefined ? { renderedPrompt: args.renderedPrompt } : {}),
  });
  if (!services.selector.serves(route.pool)) throw new NoHealthyTargetError(route.pool.name);
  const gate = await passGate(services, { ctx, plan, route, onLimits: args.onLimits });
  const { admission, reservation } = gate;
  const upstream = new AbortController();
  let opened: {
    target: TargetInfo;
    events: AsyncGenerator<RouterStreamEvent>;
    release: () => void;
  } | null = null;
  const dispatchedAt = performance.now();
  try {
    for (const target of services.selector.order(route.pool)) {
      const release = services.selector.acquire(target);
      try {
        const events = await services.routers.openStream(
          target,
          plan.body,
          plan.timeoutMs,
          upstream.signal,
        );
        opened = { target, events, release };
        break;
      } catch (err) {
        release();
        if (err instanceof TargetUnavailableError) continue;
        throw err;
      }
    }
    if (!opened) throw new NoHealthyTargetError(route.pool.name);
  } catch (err) {
    // No router accepted it: the limits get back what admitting it counted.
    await (err instanceof NoHealthyTargetError ? gate.refund() : gate.release());
    throw err;
  }

  const { target, events, release } = opened;
  const bytes = new TextEncoder();
  let cancelled = false;
  let timer: NodeJS.Timeout | undefined;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const write = (text: string) => {
        if (!cancelled && text) controller.enqueue(bytes.encode(text));
      };
      timer = setInterval(
        () => write(encoder.keepAlive()),
        services.config.streamKeepAliveMs ?? DEFAULT_KEEP_ALIVE_MS,
      );
      void (async () => {
        let text = "";
        let usage: RouterUsage | undefined;
        let finishReason: string | null = null;
        let failure: CatalogError | undefined;
        let endCode: ErrorCode | null = null;
        try {
          write(encoder.start({ promptTokens: () => promptTokensOf(plan) }));
          try {
            for await (const event of events) {
              if (event.type === "keepalive") continue;
              if (event.type === "error") {
                failure = routerErrorToCatalog(event.error.code);
                break;
              }
              const choice = event.chunk.choices[0];
              const delta = choice?.text ?? "";
              text += delta;
              write(encoder.delta(delta));
              if (choice?.finish_reason) finishReason = choice.finish_reason;
              if (event.chunk.usage) {
                const bounded = boundedUsage(plan, event.chunk.usage);
                if (bounded.capped) {
                  warnOverReported(services, ctx, target, event.chunk.usage, bounded);
                }
                usage = bounded;
              }
            }
          } catch (err) {
            failure =
              err instanceof UpstreamTimeoutError
                ? { code: "upstream_timeout", message: err.message }
                : {
                    code: "upstream_error",
                    message:
                      err instanceof UpstreamFailedError
                        ? err.message
                        : "The router's stream failed.",
                  };
          }
          const upstreamMs = performance.now() - dispatchedAt;
          const partial = (): RouterUsage => {
            const prompt = promptTokensOf(plan);
            const completion = text ? countTokens(text) : 0;
            return {
              prompt_tokens: prompt,
              completion_tokens: completion,
              total_tokens: prompt + completion,
            };
          };
          // The tokens billed count against the token windows, issued in the same tick as the
          // settlement and the usage append (one pipelined Redis round trip).
          const countInWindows = (tokens: number) => [admission.finish(tokens).catch(() => {})];
          if (cancelled) {
            // Billed for what was generated before the client left, and counted against the
            // token windows as that (a client dropping the connection just before the last
            // event must not get its answers outside its tokens per minute).
            await recordCompletionUsage(services, {
              ctx,
              route,
              target,
              usage: partial(),
              settle: settleReservation(reservation),
              upstreamMs,
              status: "cancelled",
              errorCode: null,
              stream: true,
              alongside: countInWindows,
            });
          } else if (failure || !usage) {
            const fail = failure ?? {
              code: "upstream_error" as const,
              message: "The router's stream ended without usage.",
            };
            await recordCompletionUsage(services, {
              ctx,
              route,
              target,
              usage: partial(),
              settle: undefined,
              upstreamMs,
              status: "failed",
              errorCode: fail.code,
              stream: true,
            });
            endCode = fail.code;
            write(encoder.error(fail));
          } else {
            const { cost } = await recordCompletionUsage(services, {
              ctx,
              route,
              target,
              usage,
              settle: settleReservation(reservation),
              upstreamMs,
              status: "ok",
              errorCode: null,
              stream: true,
              alongside: countInWindows,
            });
            write(
              encoder.finish({
                finishReason: FinishReason.safeParse(finishReason).data ?? "stop",
                usage: {
                  prompt_tokens: usage.prompt_tokens,
                  completion_tokens: usage.completion_tokens,
                  total_tokens: usage.prompt_tokens + usage.completion_tokens,
                  cost,
                },
                timing: {
                  queue_ms: Math.round(dispatchedAt - ctx.receivedAt),
                  upstream_ms: Math.round(upstreamMs),
                  total_ms: Math.round(performance.now() - ctx.receivedAt),
                },
              }),
            );
          }
        } catch (err) {
          services.logger.error({ err, requestId: ctx.requestId }, "stream relay failed");
          endCode = "internal_error";
          write(
            encoder.error({ code: "internal_error", message: "Internal error while streaming." }),
          );
        } finally {
          clearInterval(timer);
          release();
          await gate.release().catch(() => {});
          if (!cancelled) controller.close();
          args.onEnd?.({ errorCode: endCode, upstreamMs: performance.now() - dispatchedAt });
        }
      })();
    },
    cancel() {
      cancelled = true;
      clearInterval(timer);
      upstream.abort();
    },
  });
}

/** Router error events after the first byte, in catalogue terms (internals never leak). */
function routerErrorToCatalog(code: string): CatalogError {
  const mapped: ErrorCode = code === "task_timeout" ? "upstream_timeout" : "upstream_error";
  return {
    code: mapped,
    message:
      mapped === "upstream_timeout"
        ? "The model did not finish in time."
        : "The router failed while streaming.",
  };
}
