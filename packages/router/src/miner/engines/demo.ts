import { createHash } from "node:crypto";
import { JSON_INSTRUCTION, promptSection } from "../../core/structured.js";
import type { EngineRequest, EngineResult, MinerEngine } from "./types.js";

// Common English words that are one BPE token each with a leading space, so the word count is
// the completion token count and `max_tokens` is respected exactly.
export const DEMO_VOCABULARY = [
  "the",
  "network",
  "model",
  "data",
  "router",
  "miner",
  "task",
  "result",
  "node",
  "answer",
  "system",
  "time",
  "work",
  "value",
  "state",
  "open",
  "fast",
  "simple",
  "small",
  "large",
  "first",
  "next",
  "every",
  "other",
  "new",
  "good",
  "best",
  "more",
  "less",
  "some",
  "many",
  "each",
  "all",
  "one",
  "two",
  "three",
  "with",
  "from",
  "into",
  "over",
  "under",
  "about",
  "after",
  "before",
  "and",
  "or",
  "but",
  "so",
  "then",
  "now",
  "is",
  "are",
  "was",
  "can",
  "will",
  "may",
  "should",
  "must",
  "runs",
  "makes",
] as const;

/** A small deterministic PRNG (mulberry32). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The words the demo engine answers `req` with, and whether max_tokens cut them. */
export function demoWords(req: EngineRequest): { words: string[]; cut: boolean } {
  const seedHex = createHash("sha256")
    .update(
      JSON.stringify([
        req.model,
        req.prompt,
        req.temperature ?? null,
        req.top_p ?? null,
        req.top_k ?? null,
      ]),
    )
    .digest("hex")
    .slice(0, 8);
  const rand = mulberry32(Number.parseInt(seedHex, 16));
  const natural = 8 + Math.floor(rand() * 40);
  const count = Math.min(natural, req.max_tokens);
  const words: string[] = [];
  for (let i = 0; i < count; i++) {
    words.push(DEMO_VOCABULARY[Math.floor(rand() * DEMO_VOCABULARY.length)] ?? "the");
  }
  return { words, cut: natural > req.max_tokens };
}

const NEGATIVE = /\b(incorrect|false|wrong|never|untrue|invalid)\b/i;

/**
 * The demo engine's answer to a prompt ending in the JSON instruction line: a deterministic JSON
 * object with the keys asked for. Verdicts follow toy rules so every path can be exercised:
 * the first allowed verdict (VALID / TRUE) normally; the second (INVALID / FALSE) when the judged
 * text has a negative word (incorrect, false, wrong, never, untrue, invalid); NEEDS_SPEC (or
 * UNVERIFIABLE) when the claim has no description and no rules, or the statement is a question.
 */
export function demoStructured(req: EngineRequest): string | undefined {
  const at = req.prompt.lastIndexOf(JSON_INSTRUCTION);
  if (at < 0) return undefined;
  const spec = req.prompt.slice(at + JSON_INSTRUCTION.length);
  const keys = [...spec.matchAll(/(?:^|;)\s*([a-z_]+) \(([^)]*)\)/g)].map((m) => ({
    key: m[1] ?? "",
    hint: m[2] ?? "",
  }));
  const judged =
    promptSection(req.prompt, "OUTPUT") ?? promptSection(req.prompt, "STATEMENT") ?? "";
  const vague =
    promptSection(req.prompt, "DESCRIPTION") === "(none)" &&
    promptSection(req.prompt, "RULES") === "(none)";
  const words = demoWords({ ...req, max_tokens: 24 }).words;
  const digest = createHash("sha256").update(req.prompt).digest();
  const out: Record<string, unknown> = {};
  for (const { key, hint } of keys) {
    const options = /one of ([A-Z_, ]+)/.exec(hint)?.[1]?.split(/,\s*/) ?? [];
    if (key === "verdict" && options.length > 0) {
      const unsure = options.find((o) => o === "NEEDS_SPEC" || o === "UNVERIFIABLE");
      if ((vague || judged.trim().endsWith("?")) && unsure !== undefined) out[key] = unsure;
      else out[key] = NEGATIVE.test(judged) ? (options[1] ?? options[0]) : options[0];
    } else if (key === "confidence") {
      out[key] = Math.round((0.7 + ((digest[0] ?? 0) % 25) / 100) * 100) / 100;
    } else if (key === "reasons") {
      out[key] = [
        NEGATIVE.test(judged)
          ? "the text contradicts itself or the claim"
          : "the text is consistent with the claim",
      ];
    } else if (key === "advice") {
      out[key] = vague ? "describe the claim or list rules to judge against" : "none";
    } else if (key === "steps") {
      out[key] = ["read the objective", "processed the input", "wrote the output"];
    } else if (hint.startsWith("array")) {
      out[key] = [];
    } else {
      out[key] = words.join(" ");
    }
  }
  return JSON.stringify(out);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error("aborted"));
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new Error("aborted"));
    };
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Where the earliest of `stops` begins in `text`, or -1. */
function firstStop(text: string, stops: string[]): number {
  let at = -1;
  for (const stop of stops) {
    const i = text.indexOf(stop);
    if (i !== -1 && (at === -1 || i < at)) at = i;
  }
  return at;
}

/** The built-in deterministic engine: same prompt and params give the same text. */
export class DemoEngine implements MinerEngine {
  readonly name = "demo";

  constructor(private readonly tokenDelayMs = 3) {}

  async generate(
    req: EngineRequest,
    onToken: (text: string) => void,
    signal: AbortSignal,
  ): Promise<EngineResult> {
    const structured = demoStructured(req);
    if (structured !== undefined) {
      // Streamed in a few pieces; never cut by max_tokens, so the JSON stays whole.
      for (let i = 0; i < structured.length; i += 32) {
        if (this.tokenDelayMs > 0) await sleep(this.tokenDelayMs, signal);
        else if (signal.aborted) throw new Error("aborted");
        onToken(structured.slice(i, i + 32));
      }
      return { text: structured, finish_reason: "stop" };
    }
    const { words, cut } = demoWords(req);
    // Stop sequences end the text before their first occurrence, as real engines do. Streamed
    // text holds back the last (longest stop − 1) characters: a stop may span two words.
    const stops = (req.stop ?? []).filter((x) => x.length > 0);
    const holdBack = Math.max(0, ...stops.map((x) => x.length - 1));
    let text = "";
    let sent = 0;
    for (const w of words) {
      if (this.tokenDelayMs > 0) await sleep(this.tokenDelayMs, signal);
      else if (signal.aborted) throw new Error("aborted");
      text += ` ${w}`;
      const at = firstStop(text, stops);
      if (at !== -1) {
        text = text.slice(0, at);
        if (text.length > sent) onToken(text.slice(sent));
        return { text, finish_reason: "stop" };
      }
      const safe = text.length - holdBack;
      if (safe > sent) {
        onToken(text.slice(sent, safe));
        sent = safe;
      }
    }
    if (text.length > sent) onToken(text.slice(sent));
    // No usage reported on purpose: the router counts tokens with its BPE tokenizer.
    return { text, finish_reason: cut ? "length" : "stop" };
  }
}
