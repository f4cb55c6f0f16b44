/**
 * Structured (JSON) answers from miners. Route families that need a structure (validate, delegate,
 * factcheck) end their prompt with one instruction line naming the keys; engines that understand
 * it (the demo engine does, deterministically) answer one JSON object. Anything else is read as
 * "not the structure asked for" by the caller, never as an error.
 */
import { parseJsonText } from "@portal/contracts";

/** The instruction line's fixed prefix (the demo engine recognizes it). */
export const JSON_INSTRUCTION = "Respond only with a JSON object with the keys:";

/** One instruction line: `Respond only with a JSON object with the keys: a (…), b (…).` */
export function jsonInstruction(keys: Record<string, string>): string {
  const list = Object.entries(keys).map(([k, v]) => `${k} (${v})`);
  return `${JSON_INSTRUCTION} ${list.join("; ")}.`;
}

/** The first JSON object in a text (bare, or inside a ``` fence); undefined when there is none. */
export function extractJsonObject(text: string): Record<string, unknown> | undefined {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/i.exec(text);
  const candidates = [fenced?.[1], text];
  for (const candidate of candidates) {
    if (candidate === undefined) continue;
    const start = candidate.indexOf("{");
    const end = candidate.lastIndexOf("}");
    if (start < 0 || end <= start) continue;
    // Not JSON (or absurdly nested): try the next candidate.
    const read = parseJsonText(candidate.slice(start, end + 1));
    const value = read.ok ? read.value : undefined;
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  }
  return undefined;
}

/** A prompt section `### NAME` … up to the next `###` (trimmed), or undefined. */
export function promptSection(prompt: string, name: string): string | undefined {
  const re = new RegExp(`^### ${name}\\n([\\s\\S]*?)(?=^### |$(?![\\s\\S]))`, "m");
  return re.exec(prompt)?.[1]?.trim();
}

/** Strings of an array-ish value, capped. */
export function stringList(value: unknown, max = 10): string[] {
  if (!Array.isArray(value)) return typeof value === "string" && value !== "" ? [value] : [];
  return value
    .filter((x): x is string => typeof x === "string" && x.trim() !== "")
    .slice(0, max)
    .map((x) => x.slice(0, 2000));
}

/** A confidence in [0, 1], or undefined. */
export function confidenceOf(value: unknown): number | undefined {
  const n = typeof value === "string" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n)) return undefined;
  const v = n > 1 && n <= 100 ? n / 100 : n;
  return v >= 0 && v <= 1 ? Math.round(v * 1000) / 1000 : undefined;
}
