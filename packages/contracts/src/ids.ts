import { monotonicFactory } from "ulid";

/** Prefixes of every id we mint; the prefix makes ids greppable and self-describing. */
export type IdPrefix =
  | "req"
  | "org"
  | "usr"
  | "mem"
  | "key"
  | "plan"
  | "mdl"
  | "pool"
  | "tgt"
  | "use"
  | "log"
  | "aud"
  | "cmpl"
  | "led"
  | "exp"
  | "inv"
  /** stripe_outbox rows (metered usage on its way to Stripe). */
  | "mtr"
  /** Balance holds reserved outside a request (tools, tests); requests use their own id. */
  | "res"
  | "ses";

/**
 * ulid's default PRNG makes one `crypto.randomFillSync` call per character (16 per new
 * millisecond), which showed up at ~2% of the gateway's CPU under load. The same CSPRNG bytes,
 * drawn 4 KiB at a time; `getRandomValues` exists in Node and browsers alike. A byte over 256
 * maps uniformly onto ulid's 32 symbols (256 is a multiple of 32).
 */
const POOL_BYTES = 4096;
const pool = new Uint8Array(POOL_BYTES);
let poolAt = POOL_BYTES;
function pooledRandom(): number {
  if (poolAt >= POOL_BYTES) {
    globalThis.crypto.getRandomValues(pool);
    poolAt = 0;
  }
  return (pool[poolAt++] ?? 0) / 256;
}

const ulid = monotonicFactory(pooledRandom);

/** Mint a prefixed, time-sortable id: `req_01J…`. */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${ulid()}`;
}

/** True when `value` looks like an id minted by {@link newId} with this prefix. */
export function isId(prefix: IdPrefix, value: string): boolean {
  return new RegExp(`^${prefix}_[0-9A-HJKMNP-TV-Z]{26}$`).test(value);
}
