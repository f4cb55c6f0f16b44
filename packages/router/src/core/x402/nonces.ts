/** Used (payer, nonce) pairs, kept until the authorization expires; bounded. */
export class NonceLedger {
  private readonly used = new Map<string, number>();

  constructor(private readonly maxEntries = 200_000) {}

  /** Reserve a nonce; false when it was used (or is in use) already. */
  reserve(payer: string, nonce: string, expiresAtS: number): boolean {
    this.prune();
    const key = `${payer.toLowerCase()}:${nonce.toLowerCase()}`;
    if (this.used.has(key)) return false;
    this.used.set(key, expiresAtS * 1000);
    if (this.used.size > this.maxEntries) {
      const first = this.used.keys().next();
      if (first.done !== true) this.used.delete(first.value);
    }
    return true;
  }

  /** Give a reservation back (the paid request failed and nothing was settled). */
  release(payer: string, nonce: string): void {
    this.used.delete(`${payer.toLowerCase()}:${nonce.toLowerCase()}`);
  }

  private prune(): void {
    const now = Date.now();
    for (const [k, exp] of this.used) {
      if (exp > now) break; // insertion order ≈ expiry order for equal windows; good enough
      this.used.delete(k);
    }
  }
}
