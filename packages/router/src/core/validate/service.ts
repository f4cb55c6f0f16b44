import type {
  RouterValidateRequest,
  RouterValidateResponse,
  RouterValidateV1Request,
} from "@portal/contracts";
import type { RouterCore, TaskRequest } from "../router-core.js";
import type { Session } from "../sessions.js";
import { jsonInstruction } from "../structured.js";
import type { Task } from "../tasks.js";
import { replicaTier, resolvePool } from "../v3-pools.js";
import { aggregateVerdicts, type RunReading, readRuns, taskEvidence } from "./verdicts.js";

export const VALIDATE_VERDICTS = ["VALID", "INVALID", "RETRY", "NEEDS_SPEC"] as const;

/** What a validate prompt is built from (v1 and v2 map onto it). */
export interface ValidateSpec {
  claimType: string;
  description: string | undefined;
  output: string;
  rules: string[];
  context: unknown;
}

/** The validator prompt; its last line asks for the verdict JSON. */
export function buildValidatePrompt(spec: ValidateSpec): string {
  const rules = spec.rules.length > 0 ? spec.rules.map((r) => `- ${r}`).join("\n") : "(none)";
  const context =
    spec.context === undefined
      ? ""
      : `### CONTEXT\n${JSON.stringify(spec.context).slice(0, 20_000)}\n`;
  return [
    "You are a validator. Decide whether the candidate OUTPUT satisfies the CLAIM under the RULES.",
    "Answer NEEDS_SPEC when the claim is too vague to judge, RETRY when you cannot judge now.",
    `### CLAIM TYPE\n${spec.claimType}`,
    `### DESCRIPTION\n${spec.description?.trim() || "(none)"}`,
    `### OUTPUT\n${spec.output}`,
    `### RULES\n${rules}`,
    `${context}### RESPONSE FORMAT`,
    jsonInstruction({
      verdict: `one of ${VALIDATE_VERDICTS.join(", ")}`,
      confidence: "number from 0 to 1",
      reasons: "array of strings",
      advice: "string",
    }),
  ].join("\n");
}

/** Seconds from the v2 policy fields (`timeout` in s or `timeout_ms`). */
export function policySeconds(s: number | undefined, ms: number | undefined): number | undefined {
  if (s !== undefined) return s;
  return ms === undefined ? undefined : Math.max(1, Math.round(ms / 1000));
}

const stringify = (v: string | Record<string, unknown>): string =>
  typeof v === "string" ? v : JSON.stringify(v);

type RunPlan = { session: Session; replicas: number | undefined; ref: string | undefined };

async function runPlans(
  core: RouterCore,
  plans: RunPlan[],
  base: Omit<TaskRequest, "session" | "replicas" | "clientReference">,
): Promise<Task[]> {
  return Promise.all(
    plans.map((p) =>
      core.runTask({
        ...base,
        session: p.session,
        ...(p.replicas !== undefined && { replicas: p.replicas }),
        ...(p.ref !== undefined && { clientReference: p.ref }),
      }),
    ),
  );
}

function respond(
  version: "v1" | "v2" | "v3",
  requestId: string | undefined,
  tasks: Task[],
  extra: Record<string, unknown> = {},
): RouterValidateResponse {
  const runs: RunReading[] = tasks.flatMap((t) => readRuns(t, VALIDATE_VERDICTS, "RETRY"));
  const agg = aggregateVerdicts(runs, "RETRY");
  const response: RouterValidateResponse = {
    object: "validation",
    version,
    request_id: requestId ?? null,
    verdict: agg.verdict as RouterValidateResponse["verdict"],
    confidence: agg.confidence,
    reasons: agg.reasons,
    advice: agg.advice,
    evidence: {
      agreement: agg.agreement,
      runs_total: runs.length,
      tasks: tasks.map(taskEvidence),
      ...extra,
    },
  };
  if (runs.length > 1) {
    response.runs = runs.map((r) => ({
      miner_id: r.miner_id,
      session_id: r.session_id,
      task_id: r.task_id,
      verdict: r.verdict,
      confidence: r.confidence,
      reasons: r.reasons,
      structured: r.structured,
    }));
  }
  return response;
}

/** `POST /api/v1/validate`: prompt-oriented fields. */
export async function validateV1(
  core: RouterCore,
  session: Session,
  req: RouterValidateV1Request,
): Promise<RouterValidateResponse> {
  const prompt = buildValidatePrompt({
    claimType: req.task_type ?? req.task_domain ?? "task_result",
    description: req.task_request_input,
    output: req.task_result_output,
    rules: req.rules ?? (req.evaluation_mode !== undefined ? [req.evaluation_mode] : []),
    context: req.task_domain === undefined ? undefined : { domain: req.task_domain },
  });
  const timeout = policySeconds(req.timeout, req.timeout_ms);
  const precommit = policySeconds(req.precommit_timeout, req.precommit_timeout_ms);
  const tasks = await runPlans(
    core,
    [{ session, replicas: undefined, ref: req.client_reference }],
    {
      apiVersion: 1,
      prompt,
      ...(timeout !== undefined && { timeout }),
      ...(precommit !== undefined && { precommitTimeout: precommit }),
      params: { max_tokens: 512, temperature: 0 },
    },
  );
  return respond("v1", undefined, tasks);
}

function v2Base(
  req: RouterValidateRequest,
): Omit<TaskRequest, "session" | "replicas" | "clientReference"> {
  const p = req.policy;
  const timeout = policySeconds(p?.timeout, p?.timeout_ms);
  const precommit = policySeconds(p?.precommit_timeout, p?.precommit_timeout_ms);
  return {
    apiVersion: 2,
    prompt: buildValidatePrompt({
      claimType: req.claim.type,
      description: req.claim.description,
      output: stringify(req.claim.output),
      rules: [...(p?.rules ?? []), ...(req.rules ?? [])],
      context: req.context,
    }),
    ...(timeout !== undefined && { timeout }),
    ...(precommit !== undefined && { precommitTimeout: precommit }),
    params: {
      max_tokens: req.model_policy?.max_tokens ?? 512,
      temperature: req.model_policy?.temperature ?? 0,
    },
  };
}

/** `POST /api/v2/validate`: one session, `policy.redundancy` replicas (default the session's). */
export async function validateV2(
  core: RouterCore,
  session: Session,
  req: RouterValidateRequest,
): Promise<RouterValidateResponse> {
  const tasks = await runPlans(
    core,
    [{ session, replicas: req.policy?.redundancy, ref: req.client_reference }],
    v2Base(req),
  );
  return respond("v2", req.request_id, tasks);
}

/** `POST /api/v3/validate`: the v2 request over the tier's predefined session pool, aggregated. */
export async function validateV3(
  core: RouterCore,
  req: RouterValidateRequest,
): Promise<RouterValidateResponse> {
  const tier = replicaTier(req.consensus?.replicas, req.replicas);
  const pool = resolvePool(
    "validate",
    tier,
    core.features,
    core.sessions,
    req.consensus?.session_pool,
  );
  const ref = req.client_reference ?? undefined;
  const tasks = await runPlans(
    core,
    pool.map((slot, i) => ({
      session: slot.session,
      replicas: slot.replicas,
      ref: ref === undefined ? undefined : `${ref}:v3:${i}`,
    })),
    { ...v2Base(req), apiVersion: 3 },
  );
  return respond("v3", req.request_id, tasks, {
    replicas: tier,
    session_pool: pool.map((s) => s.session.id),
  });
}
