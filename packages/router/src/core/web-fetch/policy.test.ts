import { describe, expect, it } from "vitest";
import { WebFetchRefusedError } from "../errors.js";
import {
  checkUrl,
  hostAllowed,
  isHostPattern,
  normalizeHostPattern,
  type WebFetchPolicy,
  webFetchPolicy,
} from "./policy.js";

const policy = (hosts: string[], allowPrivate = false): WebFetchPolicy => ({
  hosts,
  allowPrivate,
  timeoutMs: 1000,
  maxBytes: 1024,
  maxUrls: 3,
});

function refusal(fn: () => void): WebFetchRefusedError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(WebFetchRefusedError);
    return err as WebFetchRefusedError;
  }
  throw new Error("expected a refusal");
}

describe("allowlist matching", () => {
  it("matches exact hosts, ignoring case and a trailing dot on either side", () => {
    expect(hostAllowed("example.com", ["example.com"])).toBe(true);
    expect(hostAllowed("EXAMPLE.com", ["example.COM"])).toBe(true);
    expect(hostAllowed("example.com.", ["example.com"])).toBe(true);
    expect(hostAllowed("example.com", ["Example.Com."])).toBe(true);
    expect(hostAllowed("www.example.com", ["example.com"])).toBe(false);
    expect(hostAllowed("example.com.evil.org", ["example.com"])).toBe(false);
    expect(hostAllowed("notexample.com", ["example.com"])).toBe(false);
  });

  it("*.suffix matches names strictly below the suffix, never the suffix or look-alikes", () => {
    const list = ["*.example.com"];
    expect(hostAllowed("a.example.com", list)).toBe(true);
    expect(hostAllowed("a.b.EXAMPLE.com.", list)).toBe(true);
    expect(hostAllowed("example.com", list)).toBe(false);
    expect(hostAllowed("badexample.com", list)).toBe(false);
    expect(hostAllowed("example.com.evil.org", list)).toBe(false);
    expect(hostAllowed("a.example.co", list)).toBe(false);
  });

  it("matches IP literals exactly (v6 in any spelling), wildcards never match IPs", () => {
    expect(hostAllowed("127.0.0.1", ["127.0.0.1"])).toBe(true);
    expect(hostAllowed("127.0.0.2", ["127.0.0.1"])).toBe(false);
    expect(hostAllowed("[::1]", ["::1"])).toBe(true);
    expect(hostAllowed("::1", ["[0:0:0:0:0:0:0:1]"])).toBe(true);
    expect(hostAllowed("1.2.3.4", ["*.3.4"])).toBe(false);
    // Numeric names are IPv4 to the URL parser ("3.4" is 3.0.0.4), so not a wildcard suffix.
    expect(normalizeHostPattern("*.3.4")).toBeUndefined();
    expect(normalizeHostPattern("*.10.0.0.1")).toBeUndefined();
  });

  it("normalizes IDNs to punycode on both sides", () => {
    expect(normalizeHostPattern("*.Bücher.example")).toBe("*.xn--bcher-kva.example");
    expect(hostAllowed("xn--bcher-kva.example", ["bücher.example"])).toBe(true);
  });

  it("rejects entries that are not hosts", () => {
    for (const bad of [
      "",
      "*",
      "*.",
      "**.a.com",
      "a.*.com",
      "http://a.com",
      "a.com/x",
      "a.com:80",
      "a b",
      "-a.com",
      "a..com",
      "[a.com]",
    ]) {
      expect(isHostPattern(bad), bad).toBe(false);
    }
    for (const good of [
      "a.com",
      " a.com ",
      "*.a.com",
      "localhost",
      "10.0.0.1",
      "::1",
      "[::1]",
      "a_b.example",
    ]) {
      expect(isHostPattern(good), good).toBe(true);
    }
    expect(hostAllowed("a.com", ["not a host", "a.com"])).toBe(true);
  });

  it("builds the policy from a config block with the allowlist normalized", () => {
    expect(
      webFetchPolicy({
        hosts: ["Docs.Example.com.", "*.CDN.example"],
        allow_private: false,
        timeout_ms: 10_000,
        max_bytes: 1_048_576,
        max_urls: 3,
      }),
    ).toEqual({
      hosts: ["docs.example.com", "*.cdn.example"],
      allowPrivate: false,
      timeoutMs: 10_000,
      maxBytes: 1_048_576,
      maxUrls: 3,
    });
  });
});

describe("checkUrl", () => {
  const p = policy(["example.com", "127.0.0.1", "*.internal.test", "::1"]);

  it("passes an allowed public host", () => {
    expect(() => checkUrl(new URL("https://example.com/page?q=1"), p)).not.toThrow();
  });

  it("refuses other schemes", () => {
    const e = refusal(() => checkUrl(new URL("ftp://example.com/file"), p));
    expect(e.details).toMatchObject({ reason: "scheme", url: "ftp://example.com/file" });
    expect(refusal(() => checkUrl(new URL("file:///etc/passwd"), p)).details).toMatchObject({
      reason: "scheme",
    });
  });

  it("refuses credentials without echoing them", () => {
    const e = refusal(() => checkUrl(new URL("https://user:secret@example.com/"), p));
    expect(e.details).toMatchObject({ reason: "credentials", url: "https://example.com/" });
    expect(e.message).not.toContain("secret");
  });

  it("refuses hosts off the allowlist, naming the host and the hop", () => {
    const e = refusal(() =>
      checkUrl(new URL("https://Evil.example.org/"), p, "https://example.com/r"),
    );
    expect(e.details).toMatchObject({
      reason: "host_not_allowed",
      host: "evil.example.org",
      redirected_from: "https://example.com/r",
    });
  });

  it("refuses literal non-public addresses unless allow_private, even when allowlisted", () => {
    const v4 = refusal(() => checkUrl(new URL("http://127.0.0.1:8080/"), p));
    expect(v4.details).toMatchObject({
      reason: "private_address",
      host: "127.0.0.1",
      address_class: "loopback",
    });
    const v6 = refusal(() => checkUrl(new URL("http://[::1]/"), p));
    expect(v6.details).toMatchObject({ reason: "private_address", address_class: "loopback" });
    // The WHATWG parser turns decimal/hex spellings into the dotted quad the rules see.
    const dec = refusal(() => checkUrl(new URL("http://2130706433/"), p));
    expect(dec.details).toMatchObject({ host: "127.0.0.1", reason: "private_address" });
    const open = policy(["127.0.0.1"], true);
    expect(() => checkUrl(new URL("http://127.0.0.1:8080/"), open)).not.toThrow();
  });
});
