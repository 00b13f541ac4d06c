import { BlockList, isIP } from "node:net";

/**
 * Address ranges a webhook must never reach: the pipeline runs inside a cloud network, where
 * these lead to the metadata server, internal services or the functions themselves.
 */
const V4_BLOCKED: [string, number, string][] = [
  ["0.0.0.0", 8, "this network"],
  ["10.0.0.0", 8, "private"],
  ["100.64.0.0", 10, "carrier-grade NAT"],
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link-local (cloud metadata)"],
  ["172.16.0.0", 12, "private"],
  ["192.0.0.0", 24, "IETF protocol assignments"],
  ["192.0.2.0", 24, "documentation"],
  ["192.88.99.0", 24, "6to4 relay anycast"],
  ["192.168.0.0", 16, "private"],
  ["198.18.0.0", 15, "benchmarking"],
  ["198.51.100.0", 24, "documentation"],
  ["203.0.113.0", 24, "documentation"],
  ["224.0.0.0", 4, "multicast"],
  ["240.0.0.0", 4, "reserved"],
];

/**
 * From the IANA IPv6 Special-Purpose Address Registry, every block that is not a globally
 * reachable unicast destination, plus the address forms that embed an IPv4 address (which would
 * otherwise smuggle one past the IPv4 table). The whole IETF protocol assignments block
 * (2001::/23: Teredo, benchmarking, ORCHID 2001:10::/28, ORCHIDv2 2001:20::/28, drone remote ID,
 * anycast services) is refused: ORCHIDs are identifiers, not routable locators, and nothing
 * there hosts a webhook receiver. functions/test/unit/ssrf-guard.test.ts checks the table.
 */
const V6_BLOCKED: [string, number, string][] = [
  ["::", 128, "unspecified"],
  ["::1", 128, "loopback"],
  ["::", 96, "IPv4-compatible"],
  ["::ffff:0:0:0", 96, "IPv4-translated (SIIT)"],
  ["64:ff9b::", 96, "NAT64"],
  ["64:ff9b:1::", 48, "NAT64 (local)"],
  ["100::", 64, "discard-only"],
  ["100:0:0:1::", 64, "dummy prefix"],
  ["2001::", 23, "IETF protocol assignments"],
  ["2001:db8::", 32, "documentation"],
  ["2002::", 16, "6to4"],
  ["3fff::", 20, "documentation"],
  ["5f00::", 16, "SRv6 SIDs"],
  ["fc00::", 7, "unique-local"],
  ["fe80::", 10, "link-local"],
  ["fec0::", 10, "site-local"],
  ["ff00::", 8, "multicast"],
];

function compile(ranges: [string, number, string][], family: "ipv4" | "ipv6") {
  const entries = ranges.map(([net, prefix, label]) => {
    const list = new BlockList();
    list.addSubnet(net, prefix, family);
    return { list, label };
  });
  return (address: string) => entries.find((e) => e.list.check(address, family))?.label ?? null;
}

const v4Reason = compile(V4_BLOCKED, "ipv4");
const v6Reason = compile(V6_BLOCKED, "ipv6");

/** The IPv4 address embedded in an IPv4-mapped IPv6 address (::ffff:a.b.c.d or its hex form). */
function mappedV4(address: string): string | null {
  const lower = address.toLowerCase();
  const dotted = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted?.[1]) return dotted[1];
  const hex = /^(?:0{0,4}:){0,5}:?ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex?.[1] && hex[2]) {
    const hi = parseInt(hex[1], 16);
    const lo = parseInt(hex[2], 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return null;
}

/** Why an address is refused, or null when it is a public unicast address. */
export function blockedAddressReason(address: string): string | null {
  const bare = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const family = isIP(bare);
  if (family === 4) return v4Reason(bare);
  if (family === 6) {
    const embedded = mappedV4(bare);
    if (embedded) {
      const reason = v4Reason(embedded);
      return reason ? `IPv4-mapped ${reason}` : null;
    }
    return v6Reason(bare);
  }
  return "not an IP address";
}
