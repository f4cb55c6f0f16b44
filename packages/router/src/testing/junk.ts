import fc from "fast-check";

/**
 * A value nested 20,000 levels deep, as a marker. It cannot be built as an object and serialised
 * (the test's own JSON.stringify would overflow the stack), so junk carries this marker and
 * `deepen` puts the nesting into the serialised body. Shared by the gateway's and the router's
 * route sweeps.
 */
export const DEEP = "\u0001deep\u0001";
export const DEEP_TEXT = `${"[".repeat(20_000)}${"]".repeat(20_000)}`;
export const deepen = (json: string) => json.replaceAll(JSON.stringify(DEEP), DEEP_TEXT);

/**
 * Values a field should refuse (or survive): wrong types, edge numbers, control characters, a
 * lone surrogate, long strings, small JSON, the DEEP marker; `extra` adds a sweep's own.
 */
export function junkValue(...extra: Array<fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constant(DEEP),
    fc.string({ maxLength: 30 }),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom(-1, 0, 2 ** 31, 2 ** 53 + 2, 1e308, "", "\u0000", "\ud800", "x".repeat(500)),
    fc.jsonValue({ maxDepth: 2 }),
    ...extra,
  );
}
