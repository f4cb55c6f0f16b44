import { confidenceOf, extractJsonObject, stringList } from "../structured.js";
import type { Task } from "../tasks.js";

/** One miner run's reading of a verdict-producing task. */
export interface RunReading {
  miner_id: string;
  session_id: number;
  task_id: number;
  verdict: string;
  confidence: number;
  reasons: string[];
  advice: string;
  structured: boolean;
  /** Extra keys the family reads (e.g. factcheck sources). */
  raw: Record<string, unknown> | undefined;
}

/** The agreed verdict over runs. */
export interface AggregatedVerdict {
  verdict: string;
  confidence: number;
  reasons: string[];
  advice: string;
  agreement: number;
}

/**
 * Read each committed replica of a task. Output that is not the JSON object asked for, or whose
 * verdict is not one of `allowed`, reads as `retry` with confidence 0: never an exception.
 */
export function readRuns(task: Task, allowed: readonly string[], retry: string): RunReading[] {
  return task.assignments
    .filter((a) => a.status === "committed")
    .map((a) => {
      const base = { miner_id: a.minerId, session_id: task.input.sessionId, task_id: task.id };
      const json = extractJsonObject(a.text ?? "");
      const verdict = typeof json?.verdict === "string" ? json.verdict.trim().toUpperCase() : "";
      if (json === undefined || !allowed.includes(verdict)) {
        return {
          ...base,
          verdict: retry,
          confidence: 0,
          reasons: [
            json === undefined
              ? "the miner's output was not the JSON object asked for"
              : `the miner's verdict ${JSON.stringify(json.verdict ?? null).slice(0, 60)} is not one of ${allowed.join(", ")}`,
          ],
          advice: "retry the request",
          structured: false,
          raw: json,
        };
      }
      return {
        ...base,
        verdict,
        confidence: confidenceOf(json.confidence) ?? 0.5,
        reasons: stringList(json.reasons),
        advice: typeof json.advice === "string" ? json.advice.slice(0, 2000) : "",
        structured: true,
        raw: json,
      };
    });
}

/**
 * Majority over structured runs (unstructured ones only count when nothing else came back);
 * a tie between different verdicts is `retry`. Confidence is the agreeing runs' mean confidence
 * scaled by their share of all runs.
 */
export function aggregateVerdicts(runs: RunReading[], retry: string): AggregatedVerdict {
  const structured = runs.filter((r) => r.structured);
  const pool = structured.length > 0 ? structured : runs;
  const counts = new Map<string, RunReading[]>();
  for (const r of pool) counts.set(r.verdict, [...(counts.get(r.verdict) ?? []), r]);
  const ranked = [...counts.entries()].sort((a, b) => b[1].length - a[1].length);
  const [top, second] = ranked;
  if (top === undefined) {
    return {
      verdict: retry,
      confidence: 0,
      reasons: ["no miner answered"],
      advice: "retry the request",
      agreement: 0,
    };
  }
  if (second !== undefined && second[1].length === top[1].length) {
    return {
      verdict: retry,
      confidence: 0,
      reasons: [`the runs disagree: ${ranked.map(([v, rs]) => `${rs.length}× ${v}`).join(", ")}`],
      advice: "retry with more replicas or a more specific claim",
      agreement: top[1].length / Math.max(1, runs.length),
    };
  }
  const agreeing = top[1];
  const agreement = agreeing.length / Math.max(1, runs.length);
  const mean = agreeing.reduce((n, r) => n + r.confidence, 0) / agreeing.length;
  const reasons = [...new Set(agreeing.flatMap((r) => r.reasons))].slice(0, 10);
  return {
    verdict: top[0],
    confidence: Math.round(mean * agreement * 1000) / 1000,
    reasons,
    advice: agreeing.find((r) => r.advice !== "")?.advice ?? "",
    agreement: Math.round(agreement * 1000) / 1000,
  };
}

/** Evidence of a task for a response: miners, consensus and usage. */
export function taskEvidence(task: Task): Record<string, unknown> {
  return {
    session_id: task.input.sessionId,
    task_id: task.id,
    miners: task.result?.evidence ?? [],
    consensus: task.result?.consensus ?? null,
    usage: task.result?.usage ?? null,
  };
}
