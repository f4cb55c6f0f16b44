import { okEnvelope } from "@portal/contracts";
import { Hono } from "hono";
import { ApiError } from "../../../errors.js";
import { usageReport } from "../../../services/usage/usage-report.js";
import type { AppEnv } from "../../../types.js";

/** GET /v1/usage: the caller's own limits, weekly allowance, balance and recent usage. */
export const usageRoute = new Hono<AppEnv>().get("/", async (c) => {
  const key = c.get("apiKey");
  if (!key) throw new ApiError("unauthorized", "Missing API key.");
  const data = await usageReport(c.get("services"), key);
  return c.json(okEnvelope({ requestId: c.get("requestId") }, data));
});
