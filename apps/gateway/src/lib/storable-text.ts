/**
 * Postgres cannot store NUL in `text`, nor NUL or an unpaired UTF-16 surrogate in `json`/`jsonb`
 * (SQLSTATE 22021 / 22P05). Text that came from a client is checked (console APIs) or scrubbed
 * (logs) before it reaches a query, so such input is a clear 400 and never a 500 or a stuck batch.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching NUL is the point.
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, "g");

/** True when Postgres can store `value` as text and inside JSON. */
export function isStorableText(value: string): boolean {
  return !UNSTORABLE.test(value);
}

/** Replace NUL and unpaired surrogates with U+FFFD (for logs, where dropping a row is worse). */
export function scrubText(value: string): string {
  return isStorableText(value) ? value : value.replace(UNSTORABLE_ALL, "\ufffd");
}

/** The dotted path of the first string (key or value) in `value` Postgres cannot store, or null. */
export function findUnstorableText(value: unknown, path: string[] = []): string | null {
  if (typeof value === "string") return isStorableText(value) ? null : path.join(".");
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorableText(value[i], [...path, String(i)]);
      if (found !== null) return found;
    }
    return null;
  }
  if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (!isStorableText(k)) return [...path, scrubText(k)].join(".");
      const found = findUnstorableText(v, [...path, k]);
      if (found !== null) return found;
    }
  }
  return null;
}
