import { describe, expect, it } from "vitest";
import { computeCostMicros, formatMicrosUsd } from "./money.js";

describe("money", () => {
  it("computes cost in integer micro-USD, rounding up", () => {
    // The envelope example: 12 + 156 tokens at 1 USD per million each = 168 micro-USD.
    expect(computeCostMicros(12, 156, 1_000_000n, 1_000_000n)).toBe(168n);
    expect(computeCostMicros(1, 0, 1n, 0n)).toBe(1n);
    expect(computeCostMicros(0, 0, 5_000_000n, 5_000_000n)).toBe(0n);
    expect(computeCostMicros(3, 7, 150_000n, 600_000n)).toBe(5n); // (450000 + 4200000)/1e6 = 4.65 → 5
  });

  it("formats micro-USD as a 6-decimal string", () => {
    expect(formatMicrosUsd(168n)).toBe("0.000168");
    expect(formatMicrosUsd(12_345_678n)).toBe("12.345678");
    expect(formatMicrosUsd(-5n)).toBe("-0.000005");
    expect(formatMicrosUsd(0)).toBe("0.000000");
  });
});
