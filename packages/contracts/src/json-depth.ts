/**
 * How deeply a request body may nest arrays and objects. Real requests nest a few levels (a JSON
 * schema or an A2A data part perhaps a dozen); a body nested thousands deep is an attack on every
 * recursive walk after the parse (JSON.stringify, validators, our own checks), which would
 * otherwise overflow the stack and answer 500. Gateway and router refuse it at the parse.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * True when `value` nests arrays and objects more than `max` levels deep (a scalar is depth 0,
 * `[]` and `{}` depth 1). Iterative, so the check itself cannot overflow the stack, and it stops
 * at the first container past the limit.
 */
export function nestedDeeperThan(value: unknown, max: number = MAX_JSON_DEPTH): boolean {
  if (value === null || typeof value !== "object") return false;
  const items: object[] = [value];
  const depths: number[] = [1];
  while (items.length > 0) {
    const item = items.pop() as object;
    const depth = depths.pop() as number;
    if (depth > max) return true;
    const children: unknown[] = Array.isArray(item) ? item : Object.values(item);
    for (const child of children) {
      if (child !== null && typeof child === "object") {
        items.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}

/** The message both services use when refusing such a body. */
export const TOO_DEEP_MESSAGE = `The request body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep.`;

export type JsonText =
  | { ok: true; value: unknown }
  | { ok: false; tooDeep: false; message: string }
  | { ok: false; tooDeep: true; message: typeof TOO_DEEP_MESSAGE };

/**
 * JSON.parse that also refuses values nested deeper than `max` (see MAX_JSON_DEPTH), for text a
 * client, a router or a miner sent. `message` is JSON.parse's own for a syntax error.
 */
export function parseJsonText(text: string, max: number = MAX_JSON_DEPTH): JsonText {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, tooDeep: false, message: (err as Error).message };
  }
  if (nestedDeeperThan(value, max)) return { ok: false, tooDeep: true, message: TOO_DEEP_MESSAGE };
  return { ok: true, value };
}
