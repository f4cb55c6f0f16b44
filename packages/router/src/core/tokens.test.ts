import fc from "fast-check";
import { countTokens as reference } from "gpt-tokenizer";
import { describe, expect, it } from "vitest";
import { countTokens, mergeCounts, sha256Hex, truncateToTokens } from "./tokens.js";

/** gpt-tokenizer's count with special-token markers taken as text: what ours must equal. */
const expected = (text: string) => reference(text, { disallowedSpecial: new Set<string>() });

describe("countTokens", () => {
  it("counts special-token markers as plain text instead of throwing", () => {
    expect(countTokens("<|im_start|>user\nhi<|im_end|>")).toBe(
      expected("<|im_start|>user\nhi<|im_end|>"),
    );
    expect(countTokens("<|endoftext|>")).toBeGreaterThan(1);
  });

  it("counts ordinary text and the empty string", () => {
    expect(countTokens("hello world")).toBe(2);
    expect(countTokens("hello")).toBe(1);
    expect(countTokens("")).toBe(0);
  });

  it("equals gpt-tokenizer's o200k_base count on fixed samples", () => {
    const samples = [
      "The quick brown fox jumps over the lazy dog.",
      "function add(a: number, b: number): number {\n  return a + b;\n}\n",
      "Ünïcödé façade — naïve café 😀👩‍👩‍👧‍👦 日本語のテキスト 中文文本 한국어 текст العربية",
      "1234567890 3.14159 0x1F600 1e-9 ++--==!=",
      "   leading and trailing spaces   \n\n\ttabs\r\nwindows",
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
      "dGhpcyBpcyBhIGxvbmcgYmFzZTY0IGJsb2Igd2l0aG91dCBhbnkgc3BhY2VzIGF0IGFsbA==".repeat(20),
      "lone \ud800 surrogate and \udc00 another",
      "I'm can't we'll they've you'd SHE'S",
    ];
    for (const s of samples) expect(countTokens(s), s).toBe(expected(s));
  });

  it("equals gpt-tokenizer's count on arbitrary text (property)", () => {
    const word = fc.constantFrom(
      "the",
      " The",
      "tokens",
      "'s",
      "\n",
      "  ",
      "123",
      "😀",
      "日本",
      "é",
      "<|im_end|>",
      "\t",
      "-",
      "ALLCAPS",
      "camelCase",
    );
    // Without U+FEFF, which gpt-tokenizer miscounts (next test).
    const text = fc
      .oneof(
        fc.string({ unit: "grapheme", maxLength: 80 }),
        fc.string({ unit: "binary", maxLength: 80 }),
        fc.array(word, { maxLength: 40 }).map((w) => w.join("")),
      )
      .filter((s) => !s.includes("\ufeff"));
    fc.assert(
      fc.property(text, (s) => countTokens(s) === expected(s)),
      { numRuns: 1500 },
    );
  });

  it("counts U+FEFF as the one token tiktoken has for it (gpt-tokenizer's table loses it)", () => {
    // gpt-tokenizer decodes its vocabulary with TextDecoder, which strips a BOM: its entry for
    // bytes EF BB BF becomes "", so it merges "\ufeff" from two tokens. tiktoken looks the
    // bytes up and finds one.
    expect(countTokens("\ufeff")).toBe(1);
    expect(expected("\ufeff")).toBe(2);
    expect(countTokens("a\ufeffb")).toBe(expected("a\ufeffb") - 1);
  });

  it("merges a long piece through the heap exactly as the linear scan does (property)", () => {
    // Pieces of one script with no spaces, so the split regex keeps them whole.
    const unit = fc.constantFrom(
      "a",
      "b",
      "ab",
      "aa",
      "the",
      "中",
      "文",
      "é",
      "😀",
      "ing",
      "0",
      "=",
    );
    const piece = fc.array(unit, { minLength: 1, maxLength: 200 }).map((u) => u.join(""));
    fc.assert(
      fc.property(piece, (p) => {
        const [linear, heap] = mergeCounts(p);
        expect(heap, p).toBe(linear);
      }),
      { numRuns: 400 },
    );
  });

  it("counts long single pieces like gpt-tokenizer, in time linear-ish in their length", () => {
    for (const s of [
      "a".repeat(3_000),
      "q".repeat(20_000),
      "中".repeat(5_000),
      "ab".repeat(1_700),
      "abc123".repeat(700),
      `${"x".repeat(999)}y${"x".repeat(1_000)}`,
    ]) {
      expect(countTokens(s), s.slice(0, 12)).toBe(expected(s));
    }
    // A megabyte-long piece used to take minutes (the linear scan is quadratic); it must finish.
    // (No wall-clock assertion: the test would time out if it regressed.)
    // ("q" pairs into "qq" and no further, as gpt-tokenizer counts it for 20,000 above.)
    expect(countTokens("q".repeat(1_000_000))).toBe(500_000);
    expect(countTokens("中".repeat(300_000))).toBe(300_000);
  }, 60_000);

  it("hashes results as hex sha256", () => {
    expect(sha256Hex("abc")).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });
});

describe("truncateToTokens", () => {
  it("keeps whole words up to the budget and says when it cut", () => {
    expect(truncateToTokens("word ".repeat(5000), 5)).toEqual({
      text: "word word word word word",
      tokens: 5,
      cut: true,
    });
    expect(truncateToTokens("hello world", 2)).toEqual({
      text: "hello world",
      tokens: 2,
      cut: false,
    });
    expect(truncateToTokens("hello world", 0)).toEqual({ text: "", tokens: 0, cut: true });
    expect(truncateToTokens("", 3)).toEqual({ text: "", tokens: 0, cut: false });
  });

  it("cuts inside a long piece without reading all of it, never halving a surrogate pair", () => {
    const cut = truncateToTokens("q".repeat(4_000_000), 5);
    expect(cut).toEqual({ text: "q".repeat(10), tokens: 5, cut: true });
    expect(truncateToTokens("😀😀😀😀", 1).text).toBe("😀");
    // Cut between the two spaces' tokens, the prefix "  " is one token on its own (fast-check
    // found it: the count reported was the 2 it had inside the whole text).
    expect(truncateToTokens("  123", 2)).toEqual({ text: "  ", tokens: 1, cut: true });
  });

  it("is a prefix with at most max tokens, the whole text when it fits (property)", () => {
    const text = fc.oneof(
      fc.string({ unit: "grapheme", maxLength: 120 }),
      fc.string({ unit: "binary", maxLength: 120 }),
      fc
        .array(fc.constantFrom(" the", "word", "'s", "\n", "  ", "123", "😀", "日本", "x"), {
          maxLength: 60,
        })
        .map((w) => w.join("")),
      // Long single pieces, cut where their own merge puts the max-th token's end.
      fc
        .array(fc.constantFrom("a", "b", "ab", "the", "中", "é", "😀", "q", "0"), {
          minLength: 30,
          maxLength: 300,
        })
        .map((w) => w.join("")),
    );
    fc.assert(
      fc.property(text, fc.integer({ min: 0, max: 120 }), (s, max) => {
        const r = truncateToTokens(s, max);
        expect(s.startsWith(r.text)).toBe(true);
        expect(r.tokens).toBe(countTokens(r.text));
        expect(r.tokens).toBeLessThanOrEqual(max);
        expect(r.cut).toBe(r.text.length < s.length);
        if (countTokens(s) <= max) expect(r.text).toBe(s);
      }),
      { numRuns: 1000 },
    );
  });
});
