import type { RouterFactcheckRequest, RouterFactcheckResponse } from "@portal/contracts";
import { MissingSessionError, RealtimeEvidenceUnavailableError } from "../errors.js";
import type { RouterCore } from "../router-core.js";
import type { Session } from "../sessions.js";
import { jsonInstruction } from "../structured.js";
import { policySeconds } from "../validate/service.js";
import { aggregateVerdicts, readRuns, taskEvidence } from "../validate/verdicts.js";
import type { EvidenceProvider, EvidenceSource } from "./evidence.js";

export const FACTCHECK_VERDICTS = ["TRUE", "FALSE", "UNVERIFIABLE"] as const;

/** The request's session, else the mode's configured one, else the generic factcheck one. */
export function factcheckSession(
  core: RouterCore,
  mode: "standard" | "realtime",
  requested: number | undefined,
): Session {
  const fc = core.features.factcheck;
  const id =
    requested ??
    (mode === "realtime" ? fc?.realtime_session_id : fc?.standard_session_id) ??
    fc?.session_id;
  if (id === undefined) {
    throw new MissingSessionError(
      `no session_id in the request and no ${mode} factcheck session configured (FACTCHECK_${mode.toUpperCase()}_SESSION_ID or FACTCHECK_SESSION_ID)`,
      { mode },
    );
  }
  return core.sessions.get(id);
}

/** The fact-checker prompt; realtime mode lists the evidence found. */
export function buildFactcheckPrompt(
  claimType: string,
  statement: string,
  sources: EvidenceSource[] | undefined,
): string {
  const evidence =
    sources === undefined
      ? []
      : [
          `### EVIDENCE\n${
            sources.length === 0
              ? "(no sources found)"
              : sources.map((s, i) => `[${i + 1}] ${s.title} (${s.url})\n${s.snippet}`).join("\n")
          }`,
        ];
  return [
    "You are a fact checker. Decide whether the STATEMENT is true, using the EVIDENCE when given.",
    `### CLAIM TYPE\n${claimType}`,
    `### STATEMENT\n${statement}`,
    ...evidence,
    "### RESPONSE FORMAT",
    jsonInstruction({
      verdict: `one of ${FACTCHECK_VERDICTS.join(", ")}`,
      confidence: "number from 0 to 1",
      reasons: "array of strings",
    }),
  ].join("\n");
}

/** `POST /api/v1/factcheck`: standard (model knowledge) or realtime (provider evidence). */
export async function factcheck(
  core: RouterCore,
  session: Session,
  req: RouterFactcheckRequest,
  provider: EvidenceProvider | undefined,
): Promise<RouterFactcheckResponse> {
  const statement = typeof req.claim === "string" ? req.claim : req.claim.statement;
  const claimType = typeof req.claim === "string" ? "statement" : (req.claim.type ?? "statement");
  let sources: EvidenceSource[] | undefined;
  if (req.mode === "realtime") {
    if (provider === undefined) {
      throw new RealtimeEvidenceUnavailableError(
        "realtime factcheck needs an evidence provider, and none is configured on this router (set TAVILY_API_KEY)",
        { mode: "realtime" },
      );
    }
    try {
      sources = await provider.search(statement);
    } catch (err) {
      throw new RealtimeEvidenceUnavailableError(
        `the evidence provider failed: ${(err as Error).message}`,
        { provider: provider.name },
      );
    }
  }
  const p = req.policy;
  const timeout = policySeconds(p?.timeout, p?.timeout_ms);
  const precommit = policySeconds(p?.precommit_timeout, p?.precommit_timeout_ms);
  const runsWanted = Math.min(p?.task_redundancy ?? 1, 5);
  const ref = req.client_reference;
  const tasks = await Promise.all(
    Array.from({ length: runsWanted }, (_, i) =>
      core.runTask({
        apiVersion: 2,
        session,
        prompt: buildFactcheckPrompt(claimType, statement, sources),
        ...(timeout !== undefined && { timeout }),
        ...(precommit !== undefined && { precommitTimeout: precommit }),
        ...(p?.redundancy !== undefined && { replicas: p.redundancy }),
        ...(ref !== undefined && { clientReference: runsWanted === 1 ? ref : `${ref}:${i}` }),
        params: { max_tokens: 512, temperature: 0 },
      }),
    ),
  );
  const runs = tasks.flatMap((t) => readRuns(t, FACTCHECK_VERDICTS, "RETRY"));
  const agg = aggregateVerdicts(runs, "RETRY");
  return {
    object: "factcheck",
    mode: req.mode,
    session_id: session.id,
    statement,
    verdict: agg.verdict as RouterFactcheckResponse["verdict"],
    confidence: agg.confidence,
    reasons: agg.reasons,
    sources: sources ?? [],
    runs: runs.map((r) => ({
      miner_id: r.miner_id,
      session_id: r.session_id,
      task_id: r.task_id,
      verdict: r.verdict,
      confidence: r.confidence,
      reasons: r.reasons,
      structured: r.structured,
    })),
    evidence: {
      agreement: agg.agreement,
      provider: provider?.name ?? null,
      tasks: tasks.map(taskEvidence),
    },
  };
}
