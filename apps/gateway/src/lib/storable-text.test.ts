import { describe, expect, it } from "vitest";
import { findUnstorableText, isStorableText, scrubText } from "./storable-text.js";

describe("storable text", () => {
  it("accepts ordinary unicode, emoji (surrogate pairs) and control characters other than NUL", () => {
    for (const s of ["", "plain", "é ü ß 中文", "😀👍🏽", "tab\tnew\nline\u0001"]) {
      expect(isStorableText(s), JSON.stringify(s)).toBe(true);
      expect(scrubText(s)).toBe(s);
    }
  });

  it("refuses NUL and unpaired surrogates, and scrubs them to U+FFFD keeping the rest", () => {
    expect(isStorableText("a\u0000b")).toBe(false);
    expect(isStorableText("\ud800")).toBe(false);
    expect(isStorableText("x\udc00")).toBe(false);
    expect(isStorableText("\udc00\ud800")).toBe(false); // reversed pair is two lone halves
    expect(scrubText("a\u0000b\ud800c😀\udfff")).toBe("a\ufffdb\ufffdc😀\ufffd");
  });

  it("names the first offending field, key or value, by its path", () => {
    expect(findUnstorableText({ a: [1, { b: "ok" }, { c: "x\u0000" }] })).toBe("a.2.c");
    expect(findUnstorableText({ "k\u0000": 1 })).toBe("k\ufffd");
    expect(findUnstorableText("\ud800")).toBe("");
    expect(findUnstorableText({ a: "😀", b: [null, true, 3] })).toBeNull();
  });
});
