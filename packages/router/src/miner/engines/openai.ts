import type { EngineRequest, EngineResult, MinerEngine } from "./types.js";

export interface OpenAiEngineOptions {
  /** e.g. http://127.0.0.1:8000/v1 (vLLM), http://127.0.0.1:8080/v1 (llama.cpp), http://127.0.0.1:11434/v1 (Ollama). */
  baseUrl: string;
  apiKey?: string;
  /** Model name sent upstream; defaults to the task's model. */
  model?: string;
  /** Ask the server to stream (default true); false for servers whose streaming is broken. */
  stream?: boolean;
}

type StreamChunk = {
  choices?: Array<{ text?: string; finish_reason?: string | null }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: { message?: string } | string;
};

function usageOf(u: StreamChunk["usage"]): EngineResult["usage"] {
  if (typeof u?.prompt_tokens === "number" && typeof u.completion_tokens === "number") {
    return { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens };
  }
  return undefined;
}

function parseChunk(data: string): StreamChunk {
  let chunk: StreamChunk;
  try {
    chunk = JSON.parse(data) as StreamChunk;
  } catch {
    throw new Error(`upstream sent a malformed chunk: ${data.slice(0, 200)}`);
  }
  if (chunk.error !== undefined) {
    const message = typeof chunk.error === "string" ? chunk.error : chunk.error.message;
    throw new Error(`upstream error: ${String(message ?? "unknown").slice(0, 300)}`);
  }
  return chunk;
}

/** Forwards to an OpenAI-compatible `/completions` endpoint with streaming. */
export class OpenAiEngine implements MinerEngine {
  readonly name = "openai";

  constructor(private readonly opts: OpenAiEngineOptions) {}

  async generate(
    req: EngineRequest,
    onToken: (text: string) => void,
    signal: AbortSignal,
  ): Promise<EngineResult> {
    const streaming = this.opts.stream !== false;
    const res = await fetch(`${this.opts.baseUrl.replace(/\/$/, "")}/completions`, {
      method: "POST",
      signal,
      headers: {
        "Content-Type": "application/json",
        ...(this.opts.apiKey !== undefined && { Authorization: `Bearer ${this.opts.apiKey}` }),
      },
      body: JSON.stringify({
        model: this.opts.model ?? req.model,
        prompt: req.prompt,
        max_tokens: req.max_tokens,
        temperature: req.temperature,
        top_p: req.top_p,
        // Not in OpenAI's own API, but vLLM, llama.cpp's server and Ollama take it; omitted when unset.
        top_k: req.top_k,
        presence_penalty: req.presence_penalty,
        frequency_penalty: req.frequency_penalty,
        stop: req.stop,
        ...(streaming ? { stream: true, stream_options: { include_usage: true } } : {}),
      }),
    });
    if (!res.ok || res.body === null) {
      const detail = await res.text().catch(() => "");
      throw new Error(`upstream ${res.status}: ${detail.slice(0, 300)}`);
    }
    if (!streaming) {
      const chunk = parseChunk(await res.text());
      const choice = chunk.choices?.[0];
      if (choice === undefined) throw new Error("upstream answered no choices");
      const text = choice.text ?? "";
      if (text !== "") onToken(text);
      const usage = usageOf(chunk.usage);
      return {
        text,
        finish_reason: choice.finish_reason ?? "stop",
        ...(usage !== undefined && { usage }),
      };
    }
    let text = "";
    let finish: string | null = null;
    let usage: EngineResult["usage"];
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const bytes of res.body) {
      buffer += decoder.decode(bytes, { stream: true });
      let nl = buffer.indexOf("\n");
      while (nl >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        nl = buffer.indexOf("\n");
        if (!line.startsWith("data:")) continue;
        const data = line.slice(5).trim();
        if (data === "[DONE]") continue;
        const chunk = parseChunk(data);
        const choice = chunk.choices?.[0];
        if (choice?.text) {
          text += choice.text;
          onToken(choice.text);
        }
        if (choice?.finish_reason) finish = choice.finish_reason;
        usage = usageOf(chunk.usage) ?? usage;
      }
    }
    return { text, finish_reason: finish ?? "stop", ...(usage !== undefined && { usage }) };
  }
}
