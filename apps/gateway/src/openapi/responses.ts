import { ERROR_HTTP_STATUS, type ErrorCode, FailedEnvelope } from "@portal/contracts";

/** OpenAPI `responses` entries for the failures a route can answer, grouped by HTTP status. */
export function failureResponses(codes: readonly ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = ERROR_HTTP_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      status,
      {
        description: `Failed envelope; error.code is one of: ${list.join(", ")}.`,
        content: { "application/json": { schema: FailedEnvelope } },
      },
    ]),
  );
}

/** Failures every API-key route can answer. */
export const AUTH_FAILURES = [
  "unauthorized",
  "key_revoked",
  "key_expired",
  "account_disabled",
  "internal_error",
] as const satisfies readonly ErrorCode[];
