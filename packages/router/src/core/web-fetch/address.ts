import { isIPv4, isIPv6 } from "node:net";

/**
 * What an IP address is, for the web-fetch SSRF rules. Everything but `public` is refused unless
 * `web_fetch.allow_private` is set.
 */
export type AddressClass =
  | "public"
  | "unspecified" // 0.0.0.0/8, ::
  | "loopback" // 127/8, ::1
  | "private" // 10/8, 172.16/12, 192.168/16, fec0::/10 (deprecated site-local)
  | "cgnat" // 100.64/10
  | "link_local" // 169.254/16, fe80::/10
  | "unique_local" // fc00::/7
  | "multicast" // 224/4, ff00::/8
  | "reserved" // 240/4 (includes 255.255.255.255); IETF, documentation and benchmarking ranges
  | "invalid"; // not an IP address at all

/** An IPv4 range as [network, prefix length] and what it is. */
const V4_RANGES: Array<[number, number, AddressClass]> = [
  [v4("0.0.0.0"), 8, "unspecified"],
  [v4("10.0.0.0"), 8, "private"],
  [v4("100.64.0.0"), 10, "cgnat"],
  [v4("127.0.0.0"), 8, "loopback"],
  [v4("169.254.0.0"), 16, "link_local"],
  [v4("172.16.0.0"), 12, "private"],
  [v4("192.168.0.0"), 16, "private"],
  [v4("224.0.0.0"), 4, "multicast"],
  [v4("240.0.0.0"), 4, "reserved"],
  // Never public hosts (RFC 6890): IETF protocol assignments, the three documentation ranges,
  // and benchmarking, which fake-IP DNS proxies hand out for arbitrary names (198.18/15).
  [v4("192.0.0.0"), 24, "reserved"],
  [v4("192.0.2.0"), 24, "reserved"],
  [v4("198.18.0.0"), 15, "reserved"],
  [v4("198.51.100.0"), 24, "reserved"],
  [v4("203.0.113.0"), 24, "reserved"],
];

function v4(text: string): number {
  return parseIPv4(text) ?? 0;
}

/** A dotted-quad IPv4 address as an unsigned 32-bit number; undefined when it is not one. */
export function parseIPv4(text: string): number | undefined {
  if (!isIPv4(text)) return undefined;
  return text.split(".").reduce((n, part) => n * 256 + Number(part), 0);
}

/** An IPv6 address (zone id and brackets dropped) as its eight 16-bit groups. */
export function parseIPv6(text: string): number[] | undefined {
  const bare = text.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  if (!isIPv6(bare)) return undefined;
  let head = bare;
  const tail: number[] = [];
  // An embedded dotted IPv4 tail (::ffff:1.2.3.4) is two groups.
  const dotted = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(head);
  if (dotted?.[1] !== undefined) {
    const n = parseIPv4(dotted[1]);
    if (n === undefined) return undefined;
    tail.push(Math.floor(n / 65_536), n % 65_536);
    head = head.slice(0, -dotted[1].length);
    if (head.endsWith(":") && !head.endsWith("::")) head = head.slice(0, -1);
  }
  const groups = (s: string): number[] =>
    s === "" ? [] : s.split(":").map((g) => Number.parseInt(g, 16));
  const [left = "", right] = head.split("::");
  const l = groups(left);
  const r = right === undefined ? [] : groups(right);
  const fill = 8 - l.length - r.length - tail.length;
  if (fill < 0 || (right === undefined && fill !== 0)) return undefined;
  return [...l, ...Array.from({ length: fill }, () => 0), ...r, ...tail];
}

function classifyV4(n: number): AddressClass {
  for (const [network, prefix, kind] of V4_RANGES) {
    const size = 2 ** (32 - prefix);
    if (Math.floor(n / size) === Math.floor(network / size)) return kind;
  }
  return "public";
}

/**
 * The IPv4 address an IPv6 address carries and would reach, if any: IPv4-mapped, -translated and
 * -compatible forms, NAT64 (the well-known 64:ff9b::/96 and the local-use 64:ff9b:1::/48), 6to4
 * (2002:V4HI:V4LO::/48) and Teredo (2001:0::/32, whose client address is the last 32 bits
 * inverted). A relay or translator on the path would carry a connection on to that IPv4 host.
 */
function embeddedV4(g: number[]): number | undefined {
  const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, hi = 0, lo = 0] = g;
  const v4n = hi * 65_536 + lo;
  const zeroHead = a === 0 && b === 0 && c === 0 && d === 0;
  if (zeroHead && e === 0 && f === 0xffff) return v4n; // ::ffff:a.b.c.d (IPv4-mapped)
  if (zeroHead && e === 0xffff && f === 0) return v4n; // ::ffff:0:a.b.c.d (IPv4-translated)
  if (zeroHead && e === 0 && f === 0 && hi !== 0) return v4n; // ::a.b.c.d (deprecated compatible)
  if (a === 0x64 && b === 0xff9b && c === 0 && d === 0 && e === 0 && f === 0) return v4n; // NAT64
  if (a === 0x64 && b === 0xff9b && c === 1) return v4n; // local-use NAT64 (RFC 8215)
  if (a === 0x2002) return b * 65_536 + c; // 6to4 (RFC 3056)
  if (a === 0x2001 && b === 0) return (hi ^ 0xffff) * 65_536 + (lo ^ 0xffff); // Teredo (RFC 4380)
  return undefined;
}

function classifyV6(g: number[]): AddressClass {
  const first = g[0] ?? 0;
  if (g.every((x) => x === 0)) return "unspecified";
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return "loopback";
  const mapped = embeddedV4(g);
  if (mapped !== undefined) return classifyV4(mapped);
  if ((first & 0xffc0) === 0xfe80) return "link_local";
  if ((first & 0xffc0) === 0xfec0) return "private";
  if ((first & 0xfe00) === 0xfc00) return "unique_local";
  if ((first & 0xff00) === 0xff00) return "multicast";
  if (first === 0x2001 && g[1] === 0xdb8) return "reserved"; // documentation (RFC 3849)
  if (first === 0x100 && g[1] === 0 && g[2] === 0 && g[3] === 0) return "reserved"; // discard
  return "public";
}

/** Classify an IPv4 or IPv6 address (IPv6 may be bracketed or carry a zone id). */
export function classifyAddress(address: string): AddressClass {
  const n = parseIPv4(address);
  if (n !== undefined) return classifyV4(n);
  const g = parseIPv6(address);
  return g === undefined ? "invalid" : classifyV6(g);
}

/** True when the address is an IP literal (v4, or v6 with or without brackets). */
export function isIpLiteral(host: string): boolean {
  return isIPv4(host) || parseIPv6(host) !== undefined;
}

/** True when the address class is refused unless `allow_private`. */
export function isBlockedClass(kind: AddressClass): boolean {
  return kind !== "public";
}
