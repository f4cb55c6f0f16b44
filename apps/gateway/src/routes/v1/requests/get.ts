import { isId, okEnvelope } from "@portal/contracts";
import { Hono } from "hono";
import { ApiError } from "../../../errors.js";
import { requestRecord } from "../../../services/usage/request-record.js";
import type { AppEnv } from "../../../types.js";

/**
 * GET /v1/requests/{request_id}: what was recorded about one of the caller's org's requests
 * (status, tokens, cost, timings), by the id every answer carries. For a stream or a request
 * whose client went away, this is where its final cost can be read.
 */
export const requestsRoute = new Hono<AppEnv>().get("/:request_id", async (c) => {
  const key = c.get("apiKey");
  if (!key) throw new ApiError("unauthorized", "Missing API key.");
  const requestId = c.req.param("request_id");
  if (!isId("req", requestId)) {
    throw new ApiError("invalid_request", "request_id must be a request id (req_…).", {
      field: "request_id",
    });
  }
  const record = await requestRecord(c.get("services").db, key.orgId, requestId);
  if (!record) {
    throw new ApiError(
      "not_found",
      "No request with this id is on record for your organization. Records are written a second or two after the answer.",
      { resource: "request" },
    );
  }
  return c.json(okEnvelope({ requestId: c.get("requestId") }, record));
});
