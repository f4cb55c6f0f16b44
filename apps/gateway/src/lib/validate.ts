import type { Context } from "hono";
import type { z } from "zod";
import { ApiError } from "../errors.js";

/** Read the body as JSON (whatever the Content-Type says) and validate it with zod. */
export async function parseJsonBody<S extends z.ZodType>(
  c: Context,
  schema: S,
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
