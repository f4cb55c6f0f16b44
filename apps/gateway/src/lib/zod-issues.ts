import type { z } from "zod";

/** One zod issue as the error envelope's `details.issues` carries it. */
export interface IssueSummary {
  path: string;
  code: string;
  message: string;
}

/**
 * Flatten zod issues into `{path, code, message}`. A failed union (string | parts[]) is replaced
 * by the issues of the one branch whose root type matched, so a bad content part reads
 * "messages.1.content.0.type: content part type 'image_url' is not supported…" rather than
 * "Invalid input".
 */
export function summarizeIssues(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[] = [],
): IssueSummary[] {
  const out: IssueSummary[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === "invalid_union" && issue.errors.length > 0) {
      const plausible = issue.errors.filter((branch) => !isRootTypeMismatch(branch));
      const only = plausible.length === 1 ? plausible[0] : undefined;
      if (only) {
        out.push(...summarizeIssues(only, path));
        continue;
      }
      if (plausible.length === 0) {
        const expected = issue.errors
          .flatMap((branch) => branch.map((i) => (i.code === "invalid_type" ? i.expected : null)))
          .filter((e): e is NonNullable<typeof e> => e !== null);
        out.push({
          path: path.map(String).join("."),
          code: "invalid_type",
          message: `expected ${[...new Set(expected)].join(" or ")}`,
        });
        continue;
      }
    }
    out.push({ path: path.map(String).join("."), code: issue.code, message: issue.message });
  }
  return out;
}

function isRootTypeMismatch(branch: readonly z.core.$ZodIssue[]): boolean {
  return branch.length === 1 && branch[0]?.code === "invalid_type" && branch[0].path.length === 0;
}

/** "path: message" of the first issue (the error message names it), or the fallback. */
export function firstIssue(issues: readonly IssueSummary[], fallback: string): string {
  const first = issues[0];
  return first ? `${first.path ? `${first.path}: ` : ""}${first.message}` : fallback;
}
