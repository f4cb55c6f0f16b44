import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH, nestedDeeperThan, parseJsonText, TOO_DEEP_MESSAGE } from "./json-depth.js";

/** Reference depth, recursive (fine for the small values fast-check makes). */
function depth(v: unknown): number {
  if (v === null || typeof v !== "object") return 0;
  const kids = Array.isArray(v) ? v : Object.values(v);
  return 1 + kids.reduce<number>((m, k) => Math.max(m, depth(k)), 0);
}

describe("nestedDeeperThan", () => {
  it("agrees with the recursive definition of depth on arbitrary JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 0, max: 9 }), (v, max) => {
        expect(nestedDeeperThan(v, max)).toBe(depth(v) > max);
      }),
      { numRuns: 500 },
    );
  });

  it("counts scalars as 0 and empty containers as 1", () => {
    expect(nestedDeeperThan("x", 0)).toBe(false);
    expect(nestedDeeperThan(null, 0)).toBe(false);
    expect(nestedDeeperThan([], 0)).toBe(true);
    expect(nestedDeeperThan({}, 1)).toBe(false);
    expect(nestedDeeperThan({ a: [1, { b: 2 }] }, 2)).toBe(true);
    expect(nestedDeeperThan({ a: [1, { b: 2 }] }, 3)).toBe(false);
  });

  it("handles a value far deeper than the stack allows, and the limit exactly", () => {
    const text = `${"[".repeat(200_000)}${"]".repeat(200_000)}`;
    expect(nestedDeeperThan(JSON.parse(text))).toBe(true);
    const atLimit = JSON.parse(`${"[".repeat(MAX_JSON_DEPTH)}${"]".repeat(MAX_JSON_DEPTH)}`);
    expect(nestedDeeperThan(atLimit)).toBe(false);
    expect(nestedDeeperThan([atLimit])).toBe(true);
  });
});

describe("parseJsonText", () => {
  it("parses, and tells a syntax error from a body nested too deeply", () => {
    expect(parseJsonText('{"a":[1,2]}')).toEqual({ ok: true, value: { a: [1, 2] } });
    const bad = parseJsonText("{nope");
    expect(bad).toMatchObject({ ok: false, tooDeep: false });
    expect(bad.ok === false && bad.message).toMatch(/JSON/);
    expect(parseJsonText(`{"a":${"[".repeat(64)}${"]".repeat(64)}}`)).toEqual({
      ok: false,
      tooDeep: true,
      message: TOO_DEEP_MESSAGE,
    });
    expect(parseJsonText("[[1]]", 1)).toMatchObject({ ok: false, tooDeep: true });
  });
});
