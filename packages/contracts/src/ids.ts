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
  | "ses";

const ulid = monotonicFactory();

/** Mint a prefixed, time-sortable id: `req_01J…`. */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${ulid()}`;
}

/** True when `value` looks like an id minted by {@link newId} with this prefix. */
export function isId(prefix: IdPrefix, value: string): boolean {
  return new RegExp(`^${prefix}_[0-9A-HJKMNP-TV-Z]{26}$`).test(value);
}
