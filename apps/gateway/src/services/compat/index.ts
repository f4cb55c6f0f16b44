/**
 * The OpenAI- and Anthropic-compatible layer: pure translation between the vendors' wire shapes
 * and our completion path. No Hono, no I/O. A route handler uses it like this:
 *
 *   const parsed = parseOpenAIChatRequest(rawBody);              // or parseAnthropicMessagesRequest
 *   if (!parsed.ok) return reply(renderOpenAIError(parsed.error)); // { status, body, headers }
 *   const route = await resolveModelRoute(services, key, parsed.value.completion.model);
 *   const prompt = renderChatPrompt(route.model.promptTemplate, parsed.value.chat);
 *   const input = toCompletionRequest(parsed.value, prompt);      // our CompletionRequest
 *   // non-stream: data = CompletionData        → buildChatCompletion(data) / buildAnthropicMessage(data)
 *   // stream: new OpenAIChatStreamEncoder({ id, model, created, includeUsage })
 *   //         / new AnthropicMessageStreamEncoder({ id, model }), fed with
 *   //         .delta(text) per router chunk, .keepAlive() while waiting,
 *   //         .finish({ finishReason, usage }) at the end, .error(err) on a mid-stream failure.
 *   // any failure: renderOpenAIError(apiError) / renderAnthropicError(apiError, { requestId })
 *
 * Integration note: `renderChatPrompt` returns the FINAL prompt (template already applied). The
 * /v1/completions pipeline applies `renderPrompt(model.promptTemplate, input.prompt)` itself, so
 * a compat route must forward this prompt without applying the template a second time.
 */
export {
  AnthropicMessageStreamEncoder,
  anthropicMessageId,
  buildAnthropicMessage,
  parseAnthropicCountTokensRequest,
  parseAnthropicMessagesRequest,
  toAnthropicStopReason,
} from "./anthropic-messages.js";
export {
  type ChatFormat,
  type ChatRole,
  type ChatTranscript,
  type ChatTurn,
  chatFormatOf,
  renderChatML,
  renderChatPrompt,
  renderTranscript,
} from "./chat-prompt.js";
export {
  type CatalogError,
  type CompatErrorResponse,
  type CompatParseResult,
  type CompatRequest,
  inVendorTerms,
  type OurFinishReason,
  SSE_KEEP_ALIVE,
  type TokenUsage,
  toCompletionRequest,
  toOpenAIFinishReason,
} from "./common.js";
export {
  buildChatCompletion,
  chatCompletionId,
  OpenAIChatStreamEncoder,
  parseOpenAIChatRequest,
} from "./openai-chat.js";
export { renderAnthropicError, renderOpenAIError } from "./vendor-errors.js";
