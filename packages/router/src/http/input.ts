import { parseJsonText } from "@portal/contracts";
import type { Context } from "hono";
import type { z } from "zod";
import type { RouterEnv } from "./env.js";
import { invalidRequest, RouterApiError } from "./errors.js";

/**
 * Parse the body as JSON whatever the Content-Type says: the seed documents' curl examples send
 * `-d '{…}'` without a JSON content type, and they must work as written.
 */
export async function readJsonBody(c: Context<RouterEnv>): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === "") throw new RouterApiError("invalid_json", "request body is empty");
  const read = parseJsonText(text);
  if (read.ok) return read.value;
  if (read.tooDeep) throw new RouterApiError("invalid_request", read.message);
  throw new RouterApiError("invalid_json", "request body is not valid JSON", {
    reason: read.message,
  });
}

/** Validate with a zod schema; failures become invalid_request with details.issues. */
export function validate<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what?: string,
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidRequest(parsed.error, what);
  return parsed.data;
}

/** A numeric path parameter (session or task id); anything else is invalid_request. */
export function numericParam(raw: string, field: "session_id" | "task_id"): number {
  if (/^\d{1,15}$/.test(raw)) return Number(raw);
  throw new RouterApiError("invalid_request", `${field} must be a non-negative integer`, {
    issues: [
      { path: field, code: "invalid_type", message: `${field} must be a non-negative integer` },
    ],
  });
}
