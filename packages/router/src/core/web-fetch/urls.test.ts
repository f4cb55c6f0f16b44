import { describe, expect, it } from "vitest";
import { InvalidTaskInputError, WebFetchRefusedError } from "../errors.js";
import { extractUrls, inputUrl, limitUrls } from "./urls.js";

describe("extractUrls", () => {
  it("finds http(s) URLs in prose, trimming sentence punctuation and unbalanced brackets", () => {
    expect(
      extractUrls([
        "Read https://example.com/a, then (see http://example.org/b). Also <https://x.test/c>!",
      ]),
    ).toEqual(["https://example.com/a", "http://example.org/b", "https://x.test/c"]);
  });

  it("keeps balanced brackets, queries and fragments", () => {
    expect(
      extractUrls(["https://en.wikipedia.org/wiki/Foo_(bar) and https://a.test/p?q=1&r=2#frag."]),
    ).toEqual(["https://en.wikipedia.org/wiki/Foo_(bar)", "https://a.test/p?q=1&r=2#frag"]);
  });

  it("dedupes by the parsed URL and keeps the order of first appearance", () => {
    expect(
      extractUrls([
        "HTTPS://Example.com and https://example.com/",
        undefined,
        "https://b.test/x https://example.com",
      ]),
    ).toEqual(["https://example.com/", "https://b.test/x"]);
  });

  it("searches the strings of a JSON payload, nested", () => {
    expect(
      extractUrls([{ sources: ["https://a.test/1", { u: "see https://b.test/2" }], n: 3 }]),
    ).toEqual(["https://a.test/1", "https://b.test/2"]);
  });

  it("ignores other schemes and text that is not a URL", () => {
    expect(extractUrls(["ftp://a.test/x file:///etc/passwd mailto:a@b.test http://"])).toEqual([]);
    expect(extractUrls(["no links here"])).toEqual([]);
  });

  it("keeps URLs with credentials so the policy can refuse them out loud", () => {
    expect(extractUrls(["https://u:p@a.test/"])).toEqual(["https://u:p@a.test/"]);
  });
});

describe("limitUrls", () => {
  it("passes up to the limit and refuses beyond it with the count", () => {
    expect(() => limitUrls(["a", "b", "c"], 3)).not.toThrow();
    try {
      limitUrls(["a", "b", "c", "d"], 3);
      throw new Error("expected a refusal");
    } catch (err) {
      expect(err).toBeInstanceOf(WebFetchRefusedError);
      expect((err as WebFetchRefusedError).details).toMatchObject({
        reason: "too_many_urls",
        found: 4,
        max_urls: 3,
      });
    }
  });
});

describe("inputUrl", () => {
  it("accepts one absolute http(s) URL, surrounding whitespace allowed", () => {
    expect(inputUrl("  https://example.com/page \n").href).toBe("https://example.com/page");
    expect(inputUrl("http://127.0.0.1:8080/x").href).toBe("http://127.0.0.1:8080/x");
  });

  it.each([
    [{ url: "https://example.com" }, "must be a URL string"],
    ["", "one absolute"],
    ["https://a.test https://b.test", "one absolute"],
    ["/relative/path", "not an absolute URL"],
    ["example.com", "not an absolute URL"],
  ])("refuses %j", (payload, message) => {
    expect(() => inputUrl(payload)).toThrow(InvalidTaskInputError);
    expect(() => inputUrl(payload)).toThrow(message);
  });

  it("refuses other schemes as a web fetch refusal", () => {
    expect(() => inputUrl("ftp://example.com/f")).toThrow(WebFetchRefusedError);
    expect(() => inputUrl("javascript:alert(1)")).toThrow(/http\(s\) URL, not javascript/);
  });
});
