import type { CompletionUsage, FinishReason } from "@portal/contracts";
import type { z } from "zod";
import type { CatalogError } from "../compat/common.js";

/** What the stream's final frame knows: finish reason, priced usage, timing. */
export interface StreamFinish {
  finishReason: z.infer<typeof FinishReason> | null;
  usage: CompletionUsage;
  timing: { queue_ms: number; upstream_ms: number; total_ms: number };
}

/**
 * Turns a completion's life into SSE text for one wire format (Portal envelope, OpenAI chat,
 * Anthropic messages). Each method returns the text to write, possibly "".
 */
export interface StreamEncoder {
  /** `promptTokens` counts the prompt on demand (only a format that announces it pays for it). */
  start(args?: { promptTokens?: () => number }): string;
  delta(text: string): string;
  finish(args: StreamFinish): string;
  error(err: CatalogError): string;
  keepAlive(): string;
}
