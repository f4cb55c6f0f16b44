import { ERROR_HTTP_STATUS, failedEnvelope, newId } from "@portal/contracts";

/**
 * The answer to a request node-server could not turn into a web Request (a target such as `*`, a
 * missing or malformed Host header; see createFetchServer), which never reaches the app: the
 * error envelope with a request id, like every other answer, instead of an empty 400.
 */
export function malformedRequestEnvelope(malformed: boolean): Response {
  const requestId = newId("req");
  const code = malformed ? "invalid_request" : "internal_error";
  const body = failedEnvelope(
    { requestId, model: null, routerPool: null },
    {
      code,
      message: malformed
        ? "Malformed request: its target or Host header cannot be read."
        : "Internal error. Quote the request id when contacting support.",
    },
  );
  return new Response(JSON.stringify(body), {
    status: ERROR_HTTP_STATUS[code],
    headers: { "content-type": "application/json", "x-request-id": requestId },
  });
}
