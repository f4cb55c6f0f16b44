import { parseJsonText } from "@portal/contracts";
import type { Context } from "hono";
import type { z } from "zod";
import { ApiError } from "../errors.js";
import { findUnstorableText } from "./storable-text.js";
import { firstIssue, summarizeIssues } from "./zod-issues.js";

/**
 * Read the body as JSON (whatever the Content-Type says) and validate it with zod. Unless
 * `anyText` is set (completion bodies, which are forwarded and never stored), strings Postgres
 * cannot store (NUL, unpaired surrogates) are refused as `invalid_request` naming the field.
 */
export async function parseJsonBody<S extends z.ZodType>(
  c: Context,
  schema: S,
  opts: { anyText?: boolean } = {},
): Promise<z.infer<S>> {
  const text = await c.req.text();
  if (text.trim() === "")
    throw new ApiError("invalid_json", "The request body is empty; send a JSON object.");
  const read = parseJsonText(text);
  if (!read.ok) {
    if (read.tooDeep) throw new ApiError("invalid_request", read.message);
    throw new ApiError("invalid_json", `The request body is not valid JSON: ${read.message}`);
  }
  const json = read.value;
  if (!opts.anyText) {
    const bad = findUnstorableText(json);
    if (bad !== null) {
      const where = bad === "" ? "the body" : bad;
      throw new ApiError(
        "invalid_request",
        `Invalid request: ${where}: text must not contain NUL characters or unpaired UTF-16 surrogates.`,
        {
          issues: [{ path: bad, code: "invalid_string", message: "unsupported characters" }],
        },
      );
    }
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw invalidInput("request", parsed.error, "invalid body");
  return parsed.data;
}

/**
 * Validate the query string with zod (each parameter's first value). A bad one is
 * `invalid_request` naming the parameter, with every issue in `details.issues`, as for bodies.
 */
export function parseQuery<S extends z.ZodType>(c: Context, schema: S): z.infer<S> {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) throw invalidInput("query", parsed.error, "invalid query string");
  return parsed.data;
}

/** The `invalid_request` error for a zod failure: the first issue in the message, all in details. */
function invalidInput(what: "request" | "query", error: z.ZodError, fallback: string): ApiError {
  const issues = summarizeIssues(error.issues);
  return new ApiError("invalid_request", `Invalid ${what}: ${firstIssue(issues, fallback)}`, {
    issues,
  });
}
