/** Money is integer micro-USD everywhere; this renders it as a decimal string for customers. */
export function formatMicrosUsd(micros: bigint | number): string {
  const value = BigInt(micros);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const whole = abs / 1_000_000n;
  const frac = (abs % 1_000_000n).toString().padStart(6, "0");
  return `${negative ? "-" : ""}${whole}.${frac}`;
}

/**
 * Cost of a request in micro-USD: ceil((prompt × inputPrice + completion × outputPrice) / 1e6),
 * prices being micro-USD per million tokens (DESIGN §3). Integer arithmetic only.
 */
export function computeCostMicros(
  promptTokens: number,
  completionTokens: number,
  inputPricePerMillion: bigint,
  outputPricePerMillion: bigint,
): bigint {
  const numerator =
    BigInt(promptTokens) * inputPricePerMillion + BigInt(completionTokens) * outputPricePerMillion;
  return (numerator + 999_999n) / 1_000_000n;
}
