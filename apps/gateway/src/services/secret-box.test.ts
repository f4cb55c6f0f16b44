import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SecretBox } from "./secret-box.js";

describe("SecretBox", () => {
  const box = new SecretBox(randomBytes(32));

  it("round-trips and never repeats a ciphertext", () => {
    const a = box.encrypt("router-key");
    const b = box.encrypt("router-key");
    expect(a).not.toBe(b);
    expect(a).not.toContain("router-key");
    expect(box.decrypt(a)).toBe("router-key");
  });

  it("rejects tampered ciphertexts and other keys", () => {
    const sealed = box.encrypt("secret");
    const parts = sealed.split(".");
    const data = Buffer.from(parts[3] ?? "", "base64url");
    data[0] = (data[0] ?? 0) ^ 1;
    parts[3] = data.toString("base64url");
    expect(() => box.decrypt(parts.join("."))).toThrow();
    expect(() => new SecretBox(randomBytes(32)).decrypt(sealed)).toThrow();
    expect(() => box.decrypt("garbage")).toThrow("malformed secret");
  });

  it("parses hex and base64 keys and refuses wrong lengths", () => {
    const key = randomBytes(32);
    expect(SecretBox.parseKey(key.toString("hex")).equals(key)).toBe(true);
    expect(SecretBox.parseKey(key.toString("base64")).equals(key)).toBe(true);
    expect(() => SecretBox.parseKey("abcd")).toThrow("32 bytes");
  });
});
