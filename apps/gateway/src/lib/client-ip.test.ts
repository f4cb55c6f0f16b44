import { describe, expect, it } from "vitest";
import { clientAddress } from "./client-ip.js";

describe("clientAddress", () => {
  it("is the socket peer when no proxy is trusted, whatever the header says", () => {
    expect(clientAddress("198.51.100.7", "203.0.113.1", 0)).toBe("198.51.100.7");
    expect(clientAddress("198.51.100.7", undefined, 1)).toBe("198.51.100.7");
  });

  it("takes the address the trusted proxy saw, not what the client wrote before it", () => {
    // nginx appends $remote_addr: a client-written prefix stays on the left.
    expect(clientAddress("10.0.0.2", "203.0.113.9", 1)).toBe("203.0.113.9");
    expect(clientAddress("10.0.0.2", "1.2.3.4, 203.0.113.9", 1)).toBe("203.0.113.9");
    expect(clientAddress("10.0.0.3", "1.2.3.4, 203.0.113.9, 10.0.0.2", 2)).toBe("203.0.113.9");
  });

  it("never reads further left than the chain we can vouch for", () => {
    expect(clientAddress("10.0.0.2", "203.0.113.9", 5)).toBe("203.0.113.9");
    expect(clientAddress("10.0.0.2", " , ", 1)).toBe("10.0.0.2");
    expect(clientAddress(null, "203.0.113.9", 1)).toBe("203.0.113.9");
  });
});
