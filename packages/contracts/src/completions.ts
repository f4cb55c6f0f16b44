import { z } from "zod";

/** Hard ceilings enforced by the schema; a model's own limits are checked after alias lookup. */
export const COMPLETION_LIMITS = {
  promptMaxChars: 1_000_000,
  maxTokensCeiling: 131_072,
  timeoutMaxSeconds: 3_600,
  defaultTimeoutSeconds: 180,
  defaultPrecommitTimeoutSeconds: 120,
  stopMaxSequences: 4,
} as const;

const seconds = z.int().min(1).max(COMPLETION_LIMITS.timeoutMaxSeconds);

/**
 * The timeouts a completion runs with (seconds). `timeout` defaults to 180. `precommit_timeout`
 * defaults to 120, or, under a `timeout` too short for that, to two thirds of it (the defaults'
 * ratio), so a request that only shortens `timeout` is valid, as it is on the router.
 */
export function completionTimeouts(req: { timeout?: number; precommit_timeout?: number }): {
  timeout: number;
  precommit: number;
} {
  const timeout = req.timeout ?? COMPLETION_LIMITS.defaultTimeoutSeconds;
  const precommit =
    req.precommit_timeout ??
    Math.min(
      COMPLETION_LIMITS.defaultPrecommitTimeoutSeconds,
      Math.max(1, Math.floor((timeout * 2) / 3)),
    );
  return { timeout, precommit };
}

/** Body of `POST /v1/completions` (the Portal envelope route). Unknown fields are refused. */
export const CompletionRequest = z
  .strictObject({
    model: z.string().min(1).max(128),
    prompt: z
      .string()
      .max(COMPLETION_LIMITS.promptMaxChars)
      .refine((p) => p.trim().length > 0, { message: "prompt must not be empty" }),
    max_tokens: z.int().min(1).max(COMPLETION_LIMITS.maxTokensCeiling).optional(),
    temperature: z.number().min(0).max(2).optional(),
    top_p: z.number().gt(0).max(1).optional(),
    top_k: z.int().min(0).max(1000).optional(),
    presence_penalty: z.number().min(-2).max(2).optional(),
    frequency_penalty: z.number().min(-2).max(2).optional(),
    stop: z
      .union([
        z.string().min(1),
        z.array(z.string().min(1)).max(COMPLETION_LIMITS.stopMaxSequences),
      ])
      .optional(),
    stream: z.boolean().optional(),
    timeout: seconds.optional(),
    precommit_timeout: seconds.optional(),
    user: z.string().max(256).optional(),
  })
  .superRefine((req, ctx) => {
    const { timeout, precommit } = completionTimeouts(req);
    if (timeout <= precommit) {
      ctx.addIssue({
        code: "custom",
        path: [req.timeout === undefined ? "precommit_timeout" : "timeout"],
        message:
          req.precommit_timeout === undefined
            ? `timeout (${timeout}s) must be at least 2 seconds: precommit_timeout (${precommit}s) must fit below it`
            : `timeout (${timeout}s) must be greater than precommit_timeout (${precommit}s)`,
      });
    }
  })
  .meta({
    id: "CompletionRequest",
    example: {
      model: "default",
      prompt: "Explain decentralized AI inference in one paragraph.",
      max_tokens: 160,
      temperature: 0.7,
      top_p: 1,
      stream: false,
    },
  });
export type CompletionRequest = z.infer<typeof CompletionRequest>;

/** Token usage with the request's cost (integer micro-USD rendered as a decimal string). */
export const CompletionUsage = z.object({
  prompt_tokens: z.int().nonnegative(),
  completion_tokens: z.int().nonnegative(),
  total_tokens: z.int().nonnegative(),
  cost: z.object({ amount: z.string(), currency: z.literal("USD") }),
});
export type CompletionUsage = z.infer<typeof CompletionUsage>;

export const FinishReason = z.enum(["stop", "length", "error", "cancelled"]);

export const CompletionChoice = z.object({
  index: z.int().nonnegative(),
  text: z.string(),
  finish_reason: FinishReason.nullable(),
});

/** `data` of a successful `/v1/completions` envelope. */
export const CompletionData = z
  .object({
    id: z.string(),
    object: z.literal("text_completion"),
    created: z.int(),
    model: z.string(),
    choices: z.array(CompletionChoice),
    usage: CompletionUsage,
    timing: z.object({
      queue_ms: z.number().nonnegative(),
      upstream_ms: z.number().nonnegative(),
      total_ms: z.number().nonnegative(),
    }),
  })
  .meta({ id: "CompletionData" });
export type CompletionData = z.infer<typeof CompletionData>;
