import { SessionIdInput } from "@portal/contracts";
import { Hono } from "hono";
import { z } from "zod";
import type { RouterEnv } from "../http/env.js";
import { readJsonBody, validate } from "../http/input.js";

const KeyBody = z.object({
  address: z.string().min(1).max(100),
  session_id: SessionIdInput,
  signature: z.string().min(1).max(400),
  timestamp: z.int().positive().optional(),
});
const TaskKeyBody = KeyBody.extend({ task_id: SessionIdInput });

/**
 * Payload-encryption keys for private sessions, to wallets on the allow-list whose EIP-191
 * signature verifies (no router key: the signature is the credential).
 */
export const privacyRoutes = new Hono<RouterEnv>()
  .post("/api/v1/auth/payload_enc_key/session", async (c) => {
    const b = validate(KeyBody, await readJsonBody(c), "payload key request");
    const key = await c.get("core").keyIssuer.issue({
      scope: "session",
      address: b.address,
      sessionId: b.session_id,
      signature: b.signature,
      timestamp: b.timestamp,
    });
    return c.json(key, 200, { "Cache-Control": "no-store" });
  })
  .post("/api/v1/auth/payload_enc_key/task", async (c) => {
    const b = validate(TaskKeyBody, await readJsonBody(c), "payload key request");
    const key = await c.get("core").keyIssuer.issue({
      scope: "task",
      address: b.address,
      sessionId: b.session_id,
      taskId: b.task_id,
      signature: b.signature,
      timestamp: b.timestamp,
    });
    return c.json(key, 200, { "Cache-Control": "no-store" });
  });
