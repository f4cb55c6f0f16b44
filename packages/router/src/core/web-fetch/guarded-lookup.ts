import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import { type AddressClass, classifyAddress, isBlockedClass } from "./address.js";

/** A host name resolved to an address the web-fetch rules refuse; raised inside the connect. */
export class BlockedAddressError extends Error {
  override name = "BlockedAddressError";
  constructor(
    readonly host: string,
    readonly address: string,
    readonly kind: AddressClass,
  ) {
    super(`${host} resolves to a non-public address (${kind})`);
  }
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** The resolver net.connect uses; swappable in tests. */
export type Resolver = (
  host: string,
  options: LookupOptions & { all: true },
  cb: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/**
 * A `lookup` for net/tls.connect that refuses, at connect time, a host resolving to any non-public
 * address. Checking the addresses the socket actually connects to (not an earlier resolution) is
 * what defeats DNS rebinding. One bad address refuses the host: a name that resolves to public
 * and private addresses at once is not trusted.
 */
export function guardedLookup(resolve: Resolver = dnsLookup as unknown as Resolver) {
  return (host: string, options: LookupOptions, cb: LookupCallback): void => {
    resolve(host, { ...options, all: true }, (err, addresses) => {
      if (err !== null) return cb(err, []);
      const blocked = addresses
        .map((a) => ({ address: a.address, kind: classifyAddress(a.address) }))
        .find((a) => isBlockedClass(a.kind));
      if (blocked !== undefined) {
        return cb(new BlockedAddressError(host, blocked.address, blocked.kind), []);
      }
      const [first] = addresses;
      if (first === undefined) {
        const none: NodeJS.ErrnoException = new Error(`no address for ${host}`);
        none.code = "ENOTFOUND";
        return cb(none, []);
      }
      if (options.all === true) return cb(null, addresses);
      return cb(null, first.address, first.family);
    });
  };
}
