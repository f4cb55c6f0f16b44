import type { Context } from "hono";
import type { z } from "zod";
import { ApiError } from "../errors.js";
import { findUnstorableText } from "./storable-text.js";

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
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ApiError(
      "invalid_json",
      `The request body is not valid JSON: ${(err as Error).message}`,
    );
  }
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
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({
      path: i.path.map(String).join("."),
      code: i.code,
      message: i.message,
    }));
    const first = issues[0];
    const summary = first
      ? `${first.path ? `${first.path}: ` : ""}${first.message}`
      : "invalid body";
    throw new ApiError("invalid_request", `Invalid request: ${summary}`, { issues });
  }
  return parsed.data;
}
