import { describe, expect, it } from "vitest";
import { classifyAddress, isIpLiteral, parseIPv6 } from "./address.js";

describe("classifyAddress — IPv4", () => {
  it.each([
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["10.0.0.1", "private"],
    ["10.255.255.255", "private"],
    ["100.64.0.1", "cgnat"],
    ["100.127.255.255", "cgnat"],
    ["127.0.0.1", "loopback"],
    ["127.8.9.10", "loopback"],
    ["169.254.169.254", "link_local"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.255", "multicast"],
    ["240.0.0.1", "reserved"],
    ["255.255.255.255", "reserved"],
    ["192.0.0.8", "reserved"],
    ["192.0.2.10", "reserved"],
    ["198.18.0.1", "reserved"],
    ["198.19.255.255", "reserved"],
    ["198.51.100.7", "reserved"],
    ["203.0.113.9", "reserved"],
  ])("%s is %s", (ip, kind) => {
    expect(classifyAddress(ip)).toBe(kind);
  });

  it.each([
    "8.8.8.8",
    "1.1.1.1",
    "100.63.255.255",
    "100.128.0.0",
    "172.15.255.255",
    "172.32.0.0",
    "192.167.1.1",
    "169.253.1.1",
    "11.0.0.1",
    "223.255.255.255",
    "192.0.1.1",
    "198.17.255.255",
    "198.20.0.0",
    "203.0.114.1",
  ])("%s is public", (ip) => {
    expect(classifyAddress(ip)).toBe("public");
  });
});

describe("classifyAddress — IPv6 and mapped forms", () => {
  it.each([
    ["::", "unspecified"],
    ["::1", "loopback"],
    ["[::1]", "loopback"],
    ["0:0:0:0:0:0:0:1", "loopback"],
    ["fe80::1", "link_local"],
    ["fe80::1%eth0", "link_local"],
    ["febf::1", "link_local"],
    ["fec0::1", "private"],
    ["fc00::1", "unique_local"],
    ["fd12:3456::1", "unique_local"],
    ["ff02::1", "multicast"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["[::ffff:10.1.2.3]", "private"],
    ["::ffff:169.254.169.254", "link_local"],
    ["::ffff:192.168.0.1", "private"],
    ["::ffff:100.64.0.1", "cgnat"],
    ["::ffff:0:127.0.0.1", "loopback"],
    ["::127.0.0.1", "loopback"],
    ["64:ff9b::10.0.0.1", "private"],
    ["::ffff:0.0.0.0", "unspecified"],
    // 6to4 carries its IPv4 host in groups 2–3: 2002:7f00:1:: is 127.0.0.1.
    ["2002:7f00:1::", "loopback"],
    ["2002:a9fe:a9fe::1", "link_local"],
    ["2002:c0a8:101:1::1", "private"],
    // Teredo's client address is the last 32 bits inverted: 80ff:fffe is 127.0.0.1.
    ["2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"],
    ["2001::f5ff:fffe", "private"],
    ["64:ff9b:1::a00:1", "private"],
    ["2001:db8::1", "reserved"], // documentation, not Teredo (that is 2001:0::/32 only)
    ["100::1", "reserved"],
  ])("%s is %s", (ip, kind) => {
    expect(classifyAddress(ip)).toBe(kind);
  });

  it.each([
    "2001:4860:4860::8888",
    "2606:4700::1111",
    "::ffff:8.8.8.8",
    "64:ff9b::8.8.8.8",
    "fe00::1",
    "2002:808:808::1", // 6to4 of 8.8.8.8
    "2001:0:4136:e378:8000:63bf:f7f7:f7f7", // Teredo client 8.8.8.8
    "2001:db9::1",
  ])("%s is public", (ip) => {
    expect(classifyAddress(ip)).toBe("public");
  });

  it("says invalid for what is not an address", () => {
    for (const x of ["example.com", "", "1.2.3", "256.1.1.1", ":::1", "1::2::3", "localhost"]) {
      expect(classifyAddress(x), x).toBe("invalid");
    }
  });

  it("parses groups, including an embedded IPv4 tail", () => {
    expect(parseIPv6("1:2:3:4:5:6:1.2.3.4")).toEqual([1, 2, 3, 4, 5, 6, 0x102, 0x304]);
    expect(parseIPv6("::ffff:127.0.0.1")).toEqual([0, 0, 0, 0, 0, 0xffff, 0x7f00, 1]);
    expect(parseIPv6("2001:db8::")).toEqual([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0]);
    expect(isIpLiteral("[2001:db8::1]")).toBe(true);
    expect(isIpLiteral("10.0.0.1")).toBe(true);
    expect(isIpLiteral("example.com")).toBe(false);
  });
});
