import {
  type CompletionData,
  type CompletionRequest,
  completionTimeouts,
  computeCostMicros,
  type ErrorCode,
  FinishReason,
  formatMicrosUsd,
  type RouterCompletionRequest,
  type RouterCompletionResponse,
} from "@portal/contracts";
import type { NewUsageEvent } from "@portal/db";
import { countTokens } from "@portal/router/tokens";
import {
  ClientGoneError,
  InvalidCompletionError,
  ModelNotAllowedError,
  ModelNotFoundError,
  NoHealthyTargetError,
  UpstreamFailedError,
  UpstreamTimeoutError,
} from "../domain-errors.js";
import type { ClientGoneSignal } from "../lib/client-gone.js";
import type { ModelRoute, TargetInfo } from "./catalog.js";
import type { KeyRecord } from "./key-store.js";
import type { Services } from "./services.js";
import { TargetUnavailableError } from "./upstream/router-client.js";

export interface CompletionContext {
  requestId: string;
  key: KeyRecord;
  /** performance.now() when the request arrived. */
  receivedAt: number;
  route: string;
}

/** Resolve a public alias for this key's org, enforcing the org's model entitlements. */
export async function resolveModelRoute(
  services: Services,
  key: KeyRecord,
  alias: string,
): Promise<ModelRoute> {
  const route = await services.catalog.resolve(alias);
  if (!route) throw new ModelNotFoundError(alias);
  if (!(await services.catalog.isAllowed(route.model, key.planId, key.orgId))) {
    throw new ModelNotAllowedError(alias);
  }
  return route;
}

/** Render the customer prompt into the model's template (`{prompt}` placeholder). */
export function renderPrompt(template: string, prompt: string): string {
  return template.includes("{prompt}")
    ? template.split("{prompt}").join(prompt)
    : `${template}${prompt}`;
}

/** A validated completion, ready to forward: the router body and what pricing needs. */
export interface CompletionPlan {
  body: RouterCompletionRequest;
  maxTokens: number;
  /** Upstream timeout bound (timeout + precommit_timeout + margin). */
  timeoutMs: number;
  /** Exact prompt token count when it was needed (long prompts); else null. */
  promptTokens: number | null;
}

/** Check the request against the model (max_tokens, context) and build the router body. */
export function planCompletion(
  services: Services,
  args: {
    ctx: CompletionContext;
    input: CompletionRequest;
    route: ModelRoute;
    /** A prompt already rendered with the model's template (chat routes render messages). */
    renderedPrompt?: string;
  },
): CompletionPlan {
  const { ctx, input, route } = args;
  const { model } = route;
  let maxTokens = input.max_tokens ?? model.defaultMaxTokens;
  if (maxTokens > model.maxMaxTokens) {
    throw new InvalidCompletionError(
      `max_tokens (${maxTokens}) exceeds the maximum of ${model.maxMaxTokens} for model '${model.alias}'.`,
      { field: "max_tokens", maximum: model.maxMaxTokens },
    );
  }
  const prompt = args.renderedPrompt ?? renderPrompt(model.promptTemplate, input.prompt);
  const budget = model.contextLength - maxTokens;
  let promptTokens: number | null = null;
  // No text has more tokens than UTF-8 bytes, so short prompts need no tokenizing at all. (Not
  // characters: a rare character can be three byte-level tokens.)
  if (tokenBound(prompt) > budget) {
    promptTokens = countTokens(prompt);
    // max_tokens not given: the model's default, or what the context has left if that is less
    // (as the vendors do), rather than refusing a request that never asked for the default.
    if (input.max_tokens === undefined && promptTokens > budget) {
      maxTokens = Math.max(1, Math.min(maxTokens, model.contextLength - promptTokens));
    }
    if (promptTokens > model.contextLength - maxTokens) {
      throw new InvalidCompletionError(
        `The prompt (${promptTokens} tokens) plus max_tokens (${maxTokens}) exceeds the context length of ${model.contextLength} for model '${model.alias}'.`,
        {
          field: "prompt",
          prompt_tokens: promptTokens,
          max_tokens: maxTokens,
          context_length: model.contextLength,
        },
      );
    }
  }

  const { timeout, precommit } = completionTimeouts(input);
  const timeoutMs = (timeout + precommit) * 1000 + services.config.upstreamMarginMs;
  const body = {
    prompt,
    max_tokens: maxTokens,
    temperature: input.temperature,
    top_p: input.top_p,
    top_k: input.top_k,
    presence_penalty: input.presence_penalty,
    frequency_penalty: input.frequency_penalty,
    stop: input.stop,
    timeout,
    precommit_timeout: precommit,
    stream: false,
    client_reference: ctx.requestId,
  };
  return { body, maxTokens, timeoutMs, promptTokens };
}

/** Prompt tokens for pricing a reservation (counted once, only when a balance needs it). */
export function promptTokensOf(plan: CompletionPlan): number {
  if (plan.promptTokens === null) plan.promptTokens = countTokens(plan.body.prompt);
  return plan.promptTokens;
}

/**
 * The usage a router reported, held to what the request could have used: at most `max_tokens`
 * of completion (what we asked for) and at most the prompt's own token count (the router counts
 * the same prompt with the same tokenizer). A router or miner that over-reports cannot make the
 * customer pay for, or be rate limited by, tokens nobody generated. The exact prompt count is
 * computed only when the report is suspicious (more tokens than the prompt has UTF-8 bytes, or
 * more than the count already made for the reservation), so the hot path pays nothing for it.
 */
/** An upper bound on a text's token count without tokenizing: its UTF-8 length. */
export function tokenBound(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

export function boundedUsage(
  plan: CompletionPlan,
  reported: { prompt_tokens: number; completion_tokens: number },
): { prompt_tokens: number; completion_tokens: number; total_tokens: number; capped: boolean } {
  let prompt = reported.prompt_tokens;
  const suspicious =
    plan.promptTokens !== null ? prompt > plan.promptTokens : prompt > tokenBound(plan.body.prompt);
  if (suspicious) prompt = Math.min(prompt, promptTokensOf(plan));
  const completion = Math.min(reported.completion_tokens, plan.maxTokens);
  const capped = prompt !== reported.prompt_tokens || completion !== reported.completion_tokens;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    capped,
  };
}

/**
 * Prepaid settlement: `charge` turns the real cost into what is charged (pure), `commit` books
 * it. Split so the booking and the usage append go to Redis in one round trip.
 */
export interface SettleCost {
  charge(costMicros: bigint): bigint;
  commit(costMicros: bigint): Promise<unknown>;
}

/** The settlement of a prepaid reservation, or none for postpaid/free keys. */
export function settleReservation(
  reservation: {
    chargeFor(costMicros: bigint): bigint;
    settle(costMicros: bigint): Promise<unknown>;
  } | null,
): SettleCost | undefined {
  if (!reservation) return undefined;
  return {
    charge: (cost) => reservation.chargeFor(cost),
    commit: (cost) => reservation.settle(cost),
  };
}

/**
 * Forward a planned completion to the model's pool, failing over between targets only while
 * no router has accepted the task, then price it, settle it and append its usage entry (before
 * the caller answers: the entry is durable when this resolves).
 */
export async function dispatchCompletion(
  services: Services,
  args: {
    ctx: CompletionContext;
    plan: CompletionPlan;
    route: ModelRoute;
    settle?: SettleCost | undefined;
    /** Work to issue in the same tick as the settlement (one pipelined Redis round trip). */
    alongside?: (totalTokens: number) => Array<Promise<unknown>>;
    /** On failure: how long was spent on routers (the overhead figures exclude it). */
    onUpstreamMs?: (ms: number) => void;
    /** The client's connection: when it closes, the router request is aborted. */
    signal?: ClientGoneSignal | undefined;
  },
): Promise<CompletionData> {
  const { ctx, plan, route } = args;
  const { body, timeoutMs } = plan;
  const targets = services.selector.order(route.pool);
  if (targets.length === 0) throw new NoHealthyTargetError(route.pool.name);
  const dispatchedAt = performance.now();
  let lastUnavailable: TargetUnavailableError | undefined;
  for (const target of targets) {
    const release = services.selector.acquire(target);
    const startedAt = performance.now();
    try {
      const response = await services.routers.complete(target, body, timeoutMs, args.signal);
      const upstreamMs = performance.now() - startedAt;
      return await finish(services, {
        ctx,
        plan,
        route,
        target,
        response,
        dispatchedAt,
        upstreamMs,
        settle: args.settle,
        alongside: args.alongside,
      });
    } catch (err) {
      if (err instanceof ClientGoneError) {
        // Nothing was delivered: billed for the prompt the router read, as a stream cut off
        // before its first token is; the row says cancelled.
        const promptTokens = promptTokensOf(plan);
        const upstreamMs = performance.now() - startedAt;
        await recordCompletionUsage(services, {
          ctx,
          route,
          target,
          usage: { prompt_tokens: promptTokens, completion_tokens: 0 },
          settle: args.settle,
          upstreamMs,
          status: "cancelled",
          errorCode: null,
          stream: false,
          // The tokens it was billed count against the token windows too (same round trip).
          alongside: args.alongside,
        });
        args.onUpstreamMs?.(performance.now() - dispatchedAt);
        throw err;
      }
      if (err instanceof TargetUnavailableError) {
        lastUnavailable = err;
        services.metrics.upstreamFailures.inc({
          pool: route.pool.name,
          target: target.id,
          reason: "unavailable",
        });
        services.logger.warn(
          { requestId: ctx.requestId, targetId: target.id, reason: err.reason },
          "target unavailable, trying next",
        );
        continue;
      }
      const code: ErrorCode =
        err instanceof UpstreamTimeoutError ? "upstream_timeout" : "upstream_error";
      if (err instanceof UpstreamFailedError) {
        services.logger.error({ requestId: ctx.requestId, ...err.internal }, "upstream failed");
      }
      services.metrics.upstreamFailures.inc({
        pool: route.pool.name,
        target: target.id,
        reason: code,
      });
      await recordUsage(services, {
        ctx,
        route,
        target,
        chargeMicros: 0n,
        status: "failed",
        errorCode: code,
        promptTokens: 0,
        completionTokens: 0,
        costMicros: 0n,
        upstreamMs: performance.now() - startedAt,
      });
      args.onUpstreamMs?.(performance.now() - dispatchedAt);
      throw err;
    } finally {
      release();
    }
  }
  services.logger.warn(
    { requestId: ctx.requestId, pool: route.pool.name, last: lastUnavailable?.reason },
    "no target accepted the request",
  );
  args.onUpstreamMs?.(performance.now() - dispatchedAt);
  throw new NoHealthyTargetError(route.pool.name);
}

async function finish(
  services: Services,
  args: {
    ctx: CompletionContext;
    plan: CompletionPlan;
    route: ModelRoute;
    target: TargetInfo;
    response: RouterCompletionResponse;
    dispatchedAt: number;
    upstreamMs: number;
    settle: SettleCost | undefined;
    alongside: ((totalTokens: number) => Array<Promise<unknown>>) | undefined;
  },
): Promise<CompletionData> {
  const { ctx, route, target, response, dispatchedAt, upstreamMs } = args;
  const { model } = route;
  const usage = boundedUsage(args.plan, response.usage);
  if (usage.capped) warnOverReported(services, ctx, target, response.usage, usage);
  const { cost } = await recordCompletionUsage(services, {
    ctx,
    route,
    target,
    usage,
    settle: args.settle,
    upstreamMs,
    status: "ok",
    errorCode: null,
    stream: false,
    alongside: args.alongside,
  });
  const totalMs = performance.now() - ctx.receivedAt;
  return {
    // Our own id: the router's task id and session never reach customers.
    id: `cmpl_${ctx.requestId.slice(4)}`,
    object: "text_completion",
    created: Math.floor(Date.now() / 1000),
    model: model.alias,
    choices: response.choices.map((c) => ({
      index: c.index,
      text: c.text,
      finish_reason: FinishReason.safeParse(c.finish_reason).data ?? "stop",
    })),
    usage: {
      prompt_tokens: usage.prompt_tokens,
      completion_tokens: usage.completion_tokens,
      total_tokens: usage.prompt_tokens + usage.completion_tokens,
      cost,
    },
    timing: {
      queue_ms: round(dispatchedAt - ctx.receivedAt),
      upstream_ms: round(upstreamMs),
      total_ms: round(totalMs),
    },
  };
}

/**
 * Price a finished (or cancelled, or failed-mid-stream) completion, settle a prepaid
 * reservation, count tokens and append the usage entry; resolves once both are durable.
 * Failed requests pass no `settle`: they cost the customer nothing.
 */
export async function recordCompletionUsage(
  services: Services,
  args: {
    ctx: CompletionContext;
    route: ModelRoute;
    target: TargetInfo;
    usage: { prompt_tokens: number; completion_tokens: number };
    settle: SettleCost | undefined;
    upstreamMs: number;
    status: NewUsageEvent["status"];
    errorCode: ErrorCode | null;
    stream: boolean;
    /** Work to issue in the same tick as the settlement and the append. */
    alongside?: ((totalTokens: number) => Array<Promise<unknown>>) | undefined;
  },
): Promise<{ costMicros: bigint; cost: { amount: string; currency: "USD" } }> {
  const { ctx, route, target, usage, status } = args;
  const { model } = route;
  const billable = status !== "failed";
  const fullCost = billable
    ? computeCostMicros(
        usage.prompt_tokens,
        usage.completion_tokens,
        model.inputPriceMicros,
        model.outputPriceMicros,
      )
    : 0n;
  // Prepaid: what the balance was charged (never above the reservation) is the request's cost.
  const chargeMicros = billable && args.settle ? args.settle.charge(fullCost) : 0n;
  const costMicros = billable && args.settle ? chargeMicros : fullCost;
  const booked = billable ? args.settle?.commit(fullCost) : undefined;
  services.metrics.tokens.inc({ model: model.alias, kind: "prompt" }, usage.prompt_tokens);
  services.metrics.tokens.inc({ model: model.alias, kind: "completion" }, usage.completion_tokens);
  const appended = recordUsage(services, {
    ctx,
    route,
    target,
    chargeMicros,
    status,
    errorCode: args.errorCode,
    promptTokens: usage.prompt_tokens,
    completionTokens: usage.completion_tokens,
    costMicros,
    upstreamMs: args.upstreamMs,
    stream: args.stream,
  });
  const extra = args.alongside?.(usage.prompt_tokens + usage.completion_tokens) ?? [];
  await Promise.all([booked, appended, ...extra]);
  return { costMicros, cost: { amount: formatMicrosUsd(costMicros), currency: "USD" } };
}

function recordUsage(
  services: Services,
  args: {
    ctx: CompletionContext;
    route: ModelRoute;
    target: TargetInfo;
    chargeMicros: bigint;
    status: NewUsageEvent["status"];
    errorCode: ErrorCode | null;
    promptTokens: number;
    completionTokens: number;
    costMicros: bigint;
    upstreamMs: number;
    stream?: boolean;
  },
): Promise<void> {
  const { ctx, route, target } = args;
  const event: NewUsageEvent = {
    requestId: ctx.requestId,
    orgId: ctx.key.orgId,
    apiKeyId: ctx.key.keyId,
    modelAlias: route.model.alias,
    routerPool: route.pool.name,
    routerTargetId: target.id,
    route: ctx.route,
    status: args.status,
    errorCode: args.errorCode,
    promptTokens: args.promptTokens,
    completionTokens: args.completionTokens,
    costMicros: args.costMicros,
    latencyMs: Math.round(performance.now() - ctx.receivedAt),
    upstreamMs: Math.round(args.upstreamMs),
    stream: args.stream ?? false,
    // Recorded with the event so the billing rollup meters exactly what was served as postpaid.
    billingMode: ctx.key.billingMode,
    createdAt: new Date(),
  };
  return services.usage.append({ event, chargeMicros: args.chargeMicros });
}

/** Per target: when its over-reporting was last logged, and how many since. */
const overReports = new Map<string, { loggedAt: number; since: number }>();
const OVER_REPORT_LOG_MS = 60_000;

/**
 * A router reported more tokens than the request could use: billed at the bound, and logged, at
 * most once a minute per target (a misbehaving router does it on every request; one line a
 * minute with the count says so without flooding the log).
 */
export function warnOverReported(
  services: Services,
  ctx: CompletionContext,
  target: TargetInfo,
  reported: { prompt_tokens: number; completion_tokens: number },
  billed: { prompt_tokens: number; completion_tokens: number },
): void {
  const now = Date.now();
  const seen = overReports.get(target.id);
  if (seen && now - seen.loggedAt < OVER_REPORT_LOG_MS) {
    seen.since++;
    return;
  }
  if (overReports.size >= 1024) overReports.clear();
  overReports.set(target.id, { loggedAt: now, since: 0 });
  services.logger.warn(
    {
      requestId: ctx.requestId,
      targetId: target.id,
      reported,
      billed,
      sinceLastLog: seen?.since ?? 0,
    },
    "router reported more tokens than the request could use; billed at the bound",
  );
}

function round(ms: number): number {
  return Math.max(0, Math.round(ms * 10) / 10);
}
