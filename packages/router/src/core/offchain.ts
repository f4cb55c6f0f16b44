import { getAddress, verifyMessage } from "viem";
import { ForbiddenError, InvalidSignatureError, TaskConflictError } from "./errors.js";
import type { RouterCore } from "./router-core.js";
import { sha256Hex } from "./tokens.js";

/** A result a miner posts off the WebSocket path. */
export interface OffchainResult {
  sessionId: number;
  taskId: number;
  minerId: string;
  result: string;
  signature: string | undefined;
  finishReason?: string | undefined;
  usage?: { prompt_tokens: number; completion_tokens: number } | undefined;
}

/** The EIP-191 message a miner signs for a result: `{sessionId}:{taskId}:{sha256(result)}`. */
export function offchainResultMessage(sessionId: number, taskId: number, result: string): string {
  return `${sessionId}:${taskId}:${sha256Hex(result)}`;
}

/**
 * `POST /api/v3/offchain/result`: a registered miner's signed result for a task it precommitted
 * on. The signature must come from the wallet registered for the miner id; the result then goes
 * through the same commit check as a WebSocket commit (it must match the precommit).
 */
export async function acceptOffchainResult(core: RouterCore, r: OffchainResult) {
  if (r.signature === undefined || !/^0x[0-9a-fA-F]{130}$/.test(r.signature)) {
    throw new InvalidSignatureError(
      "the result must be signed: a 65-byte 0x hex EIP-191 signature",
      {
        field: "signature",
      },
    );
  }
  const registered = core.features.offchain?.miners[r.minerId];
  if (registered === undefined) {
    throw new ForbiddenError(`miner ${r.minerId} has no registered result-signing address`, {
      miner_id: r.minerId,
    });
  }
  const message = offchainResultMessage(r.sessionId, r.taskId, r.result);
  let ok = false;
  try {
    ok = await verifyMessage({
      address: getAddress(registered),
      message,
      signature: r.signature as `0x${string}`,
    });
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new InvalidSignatureError(`the signature does not verify for miner ${r.minerId}`, {
      message,
    });
  }
  core.sessions.get(r.sessionId);
  const task = core.tasks.get(r.sessionId, r.taskId);
  const assignment = task.assignments.find(
    (a) => a.minerId === r.minerId && a.status === "precommitted",
  );
  const miner = core.miners.get(r.minerId);
  if (assignment === undefined || miner === undefined) {
    throw new TaskConflictError(
      `miner ${r.minerId} has no precommitted assignment on task ${r.taskId} of session ${r.sessionId}`,
      { state: task.state },
    );
  }
  core.dispatcher.onMinerMessage(miner, {
    type: "commit",
    assignment_id: assignment.id,
    text: r.result,
    finish_reason: r.finishReason ?? "stop",
    ...(r.usage !== undefined && { usage: r.usage }),
  });
  if (assignment.status !== "committed") {
    throw new TaskConflictError(
      `the result was refused: ${assignment.failure ?? "not committed"}`,
      {
        assignment_id: assignment.id,
      },
    );
  }
  const urn = await core.storeResultBlob(task, r.result);
  return {
    accepted: true,
    session_id: r.sessionId,
    task_id: r.taskId,
    miner_id: r.minerId,
    assignment_id: assignment.id,
    result_hash: sha256Hex(r.result),
    result_urn: urn,
    task_state: task.state,
  };
}
