/*
 * Rendering a chat conversation into the single prompt a router node takes.
 *
 * Rules (pure functions, no I/O):
 *
 * 1. The model's `promptTemplate` (`models.prompt_template`, always contains `{prompt}`) picks the
 *    chat format by its placeholders:
 *    - contains `{messages}` → "chatml": every `{messages}` becomes the ChatML conversation
 *        <|im_start|>system\n…<|im_end|>\n<|im_start|>user\n…<|im_end|>\n<|im_start|>assistant\n
 *      and every `{prompt}` becomes the empty string (a chat template keeps `{prompt}` only
 *      because the model schema requires it; the messages carry the whole conversation).
 *    - otherwise → "transcript": the conversation as plain text
 *        System: …\n\nUser: …\n\nAssistant: …\n\nUser: …\n\nAssistant:
 *      replaces every `{prompt}` (as `renderPrompt` does for /v1/completions).
 * 2. Roles: OpenAI `developer` is rendered as `system`; `tool` turns as `tool` (ChatML) /
 *    "Tool:" (transcript). Text parts/blocks of one message are joined with "\n".
 * 3. The answer always starts an assistant turn: the prompt ends with an open assistant turn
 *    (`<|im_start|>assistant\n` / `Assistant:`). When `continueLast` is set (Anthropic prefill:
 *    the last message is from the assistant) that last assistant text is left open instead, so
 *    the model continues it: no `<|im_end|>` after it / "Assistant: <text>" with nothing after.
 * 4. Nothing is escaped, stripped or rewritten. Message text is inserted verbatim, so a message
 *    containing `<|im_end|>` or "\n\nUser:" can shape the turn structure. That is deliberate: the
 *    caller writes every turn (system prompt included), exactly as it writes the whole raw prompt
 *    on /v1/completions, so there is no privilege boundary to protect; silently altering text
 *    would be worse. Substitution is single-pass: a `{prompt}` or `{messages}` inside a message
 *    is never expanded.
 */

export type ChatRole = "system" | "user" | "assistant" | "tool";

export interface ChatTurn {
  role: ChatRole;
  text: string;
}

/** A conversation normalized across vendors. */
export interface ChatTranscript {
  turns: ChatTurn[];
  /** The last turn is an assistant prefill the model should continue (Anthropic). */
  continueLast: boolean;
}

/** The named chat formats a template can select. */
export type ChatFormat = "chatml" | "transcript";

const MESSAGES = "{messages}";
const PLACEHOLDERS = /\{messages\}|\{prompt\}/g;

/** Which chat format a model's prompt template asks for. */
export function chatFormatOf(template: string): ChatFormat {
  return template.includes(MESSAGES) ? "chatml" : "transcript";
}

/** Render a conversation with a model's prompt template: the final prompt sent to the router. */
export function renderChatPrompt(template: string, chat: ChatTranscript): string {
  if (chatFormatOf(template) === "chatml") {
    const conversation = renderChatML(chat);
    return template.replace(PLACEHOLDERS, (p) => (p === MESSAGES ? conversation : ""));
  }
  const transcript = renderTranscript(chat);
  // Same fallback as renderPrompt: a template without the placeholder gets the text appended.
  if (!template.includes("{prompt}")) return `${template}${transcript}`;
  return template.replace(/\{prompt\}/g, () => transcript);
}

/** ChatML: `<|im_start|>role\n…<|im_end|>` per turn, ending in an open assistant turn. */
export function renderChatML(chat: ChatTranscript): string {
  const open = openTurn(chat);
  const closed = chat.turns
    .slice(0, open ? -1 : undefined)
    .map((t) => `<|im_start|>${t.role}\n${t.text}<|im_end|>\n`)
    .join("");
  return `${closed}<|im_start|>assistant\n${open?.text ?? ""}`;
}

const LABELS: Record<ChatRole, string> = {
  system: "System",
  user: "User",
  assistant: "Assistant",
  tool: "Tool",
};

/** Plain transcript: "Role: text" blocks separated by a blank line, ending in "Assistant:". */
export function renderTranscript(chat: ChatTranscript): string {
  const open = openTurn(chat);
  const closed = chat.turns
    .slice(0, open ? -1 : undefined)
    .map((t) => `${LABELS[t.role]}: ${t.text}\n\n`)
    .join("");
  return open ? `${closed}Assistant: ${open.text}` : `${closed}Assistant:`;
}

function openTurn(chat: ChatTranscript): ChatTurn | undefined {
  const last = chat.turns.at(-1);
  return chat.continueLast && last?.role === "assistant" ? last : undefined;
}
