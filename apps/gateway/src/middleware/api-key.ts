import { createMiddleware } from "hono/factory";
import { ApiError } from "../errors.js";
import { API_KEY_PATTERN, hashApiKey } from "../services/api-keys.js";
import type { AppEnv } from "../types.js";

const MISSING = "Missing API key. Send it as 'Authorization: Bearer cx_live_…'.";

/** Authenticate a customer API key (Bearer, or `x-api-key` for Anthropic-style clients). */
export const apiKeyAuth = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header("authorization");
  let key: string | undefined;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1])
      throw new ApiError("unauthorized", "Malformed Authorization header. Use 'Bearer <key>'.");
    key = match[1];
  } else {
    key = c.req.header("x-api-key")?.trim();
  }
  if (!key) throw new ApiError("unauthorized", MISSING);
  if (!API_KEY_PATTERN.test(key)) {
    throw new ApiError(
      "unauthorized",
      "Malformed API key. Portal keys look like 'cx_live_' followed by 40 characters.",
    );
  }
  const record = await c.get("services").keys.find(hashApiKey(key));
  if (!record) throw new ApiError("unauthorized", "Unknown API key.");
  if (record.revokedAt && record.revokedAt.getTime() <= Date.now()) {
    throw new ApiError(
      "key_revoked",
      "This API key has been revoked. Create a new key in the Portal.",
    );
  }
  if (record.expiresAt && record.expiresAt.getTime() <= Date.now()) {
    throw new ApiError("key_expired", "This API key has expired. Create a new key in the Portal.");
  }
  if (record.disabled)
    throw new ApiError("account_disabled", "This API key has been disabled by an operator.");
  if (record.orgStatus !== "active") {
    throw new ApiError("account_disabled", "This account has been disabled. Contact support.");
  }
  c.set("apiKey", record);
  // In memory only; written in bulk at most once a minute (never a write per request).
  c.get("services").keyActivity.touch(record.keyId);
  await next();
});
