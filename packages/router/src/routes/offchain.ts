import { SessionIdInput } from "@portal/contracts";
import { Hono } from "hono";
import { z } from "zod";
import { acceptOffchainResult } from "../core/offchain.js";
import type { RouterEnv } from "../http/env.js";
import { readJsonBody, validate } from "../http/input.js";

const OffchainBody = z.object({
  session_id: SessionIdInput,
  task_id: SessionIdInput,
  miner_id: z.string().min(1).max(128),
  result: z.string().max(4 * 1024 * 1024),
  signature: z.string().max(400).optional(),
  finish_reason: z.string().max(32).optional(),
  usage: z
    .object({ prompt_tokens: z.int().nonnegative(), completion_tokens: z.int().nonnegative() })
    .optional(),
});

/** `POST /api/v3/offchain/result`: signed miner results (the signature is the credential). */
export const offchainRoutes = new Hono<RouterEnv>().post("/api/v3/offchain/result", async (c) => {
  const b = validate(OffchainBody, await readJsonBody(c), "offchain result");
  return c.json(
    await acceptOffchainResult(c.get("core"), {
      sessionId: b.session_id,
      taskId: b.task_id,
      minerId: b.miner_id,
      result: b.result,
      signature: b.signature,
      finishReason: b.finish_reason,
      usage: b.usage,
    }),
  );
});
