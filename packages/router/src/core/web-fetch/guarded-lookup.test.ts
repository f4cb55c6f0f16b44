import type { LookupAddress } from "node:dns";
import { describe, expect, it } from "vitest";
import { BlockedAddressError, guardedLookup, type Resolver } from "./guarded-lookup.js";

const fixed =
  (table: Record<string, LookupAddress[]>): Resolver =>
  (host, _opts, cb) => {
    const found = table[host];
    if (found === undefined) {
      const err: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${host}`);
      err.code = "ENOTFOUND";
      cb(err, []);
    } else cb(null, found);
  };

const resolver = fixed({
  "public.test": [
    { address: "93.184.216.34", family: 4 },
    { address: "2606:2800:220:1::1", family: 6 },
  ],
  "mixed.test": [
    { address: "93.184.216.34", family: 4 },
    { address: "10.0.0.7", family: 4 },
  ],
  "mapped.test": [{ address: "::ffff:169.254.169.254", family: 6 }],
  "empty.test": [],
});

function run(host: string, all: boolean) {
  return new Promise<{ err: NodeJS.ErrnoException | null; address: unknown; family?: number }>(
    (resolve) =>
      guardedLookup(resolver)(host, { all }, (err, address, family) =>
        resolve({ err, address, ...(family !== undefined && { family }) }),
      ),
  );
}

describe("guardedLookup", () => {
  it("passes public addresses through in both callback forms", async () => {
    expect(await run("public.test", true)).toMatchObject({
      err: null,
      address: [
        { address: "93.184.216.34", family: 4 },
        { address: "2606:2800:220:1::1", family: 6 },
      ],
    });
    expect(await run("public.test", false)).toMatchObject({
      err: null,
      address: "93.184.216.34",
      family: 4,
    });
  });

  it("refuses a host when any of its addresses is not public (mixed, mapped)", async () => {
    const mixed = await run("mixed.test", true);
    expect(mixed.err).toBeInstanceOf(BlockedAddressError);
    expect(mixed.err).toMatchObject({ host: "mixed.test", address: "10.0.0.7", kind: "private" });
    const mapped = await run("mapped.test", false);
    expect(mapped.err).toMatchObject({ kind: "link_local" });
  });

  it("passes resolver errors on and treats no address as ENOTFOUND", async () => {
    expect((await run("nope.test", false)).err?.code).toBe("ENOTFOUND");
    expect((await run("empty.test", false)).err?.code).toBe("ENOTFOUND");
    expect((await run("empty.test", true)).err?.code).toBe("ENOTFOUND");
  });
});
