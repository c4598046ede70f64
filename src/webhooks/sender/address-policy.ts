import dns from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Our own SSRF address policy. request-filtering-agent is kept as a second layer, but this one is
 * the primary gate because (a) it gives a typed error we can classify as "blocked" without
 * matching the library's message text, and (b) the library lets through IPv4-compatible IPv6
 * (::/96, e.g. ::7f00:1) and unassigned IPv6 space, which it calls "unicast"; adding those to
 * its denyIPAddressList is not an option because a mixed-family list makes it console.warn
 * "Invalid CIDR" on every public IPv4 delivery.
 */

type Range = readonly [network: string, prefix: number, reason: string];

const IPV4_DENIED: readonly Range[] = [
  ['0.0.0.0', 8, 'unspecified/"this network"'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local/cloud metadata'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4 relay anycast'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  // Includes the limited broadcast address 255.255.255.255.
  ['240.0.0.0', 4, 'reserved'],
];

// Order matters: ::/96 contains :: and ::1, so the narrower ranges come first for a useful reason.
const IPV6_DENIED: readonly Range[] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['::ffff:0:0', 96, 'IPv4-mapped IPv6'],
  ['::', 96, 'IPv4-compatible IPv6'],
  ['64:ff9b::', 96, 'NAT64 (embeds an IPv4 address)'],
  ['64:ff9b:1::', 48, 'NAT64 (embeds an IPv4 address)'],
  ['fc00::', 7, 'unique local (private)'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
  // Inside global unicast 2000::/3 but not a plain public host:
  ['2001::', 23, 'IETF special-purpose (incl. Teredo)'],
  ['2001:db8::', 32, 'documentation'],
  ['2002::', 16, '6to4 (embeds an IPv4 address)'],
  ['3fff::', 20, 'documentation'],
];

interface CompiledRange {
  list: BlockList;
  reason: string;
}

function compile(ranges: readonly Range[], family: 'ipv4' | 'ipv6'): CompiledRange[] {
  return ranges.map(([network, prefix, reason]) => {
    const list = new BlockList();
    list.addSubnet(network, prefix, family);
    return { list, reason };
  });
}

const ipv4Denied = compile(IPV4_DENIED, 'ipv4');
const ipv6Denied = compile(IPV6_DENIED, 'ipv6');
const ipv6GlobalUnicast = compile([['2000::', 3, 'global unicast']], 'ipv6')[0]!.list;

/** Why `address` must not be connected to, or undefined when it is a public unicast address. */
export function deniedAddressReason(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const { list, reason } of family === 4 ? ipv4Denied : ipv6Denied) {
    if (list.check(address, type)) return reason;
  }
  // IPv6 is allow-listed rather than deny-listed: everything outside 2000::/3 is unassigned or
  // special, and new special ranges keep being carved out below it.
  if (family === 6 && !ipv6GlobalUnicast.check(address, 'ipv6')) return 'not global unicast';
  return undefined;
}

/**
 * What a tenant sees in its attempt log for any blocked address. It names neither the address
 * nor the reason: a tenant could otherwise map our internal names ("resolved from …") by
 * registering them. Operators get the detail (the error's message) in the server log.
 */
export const BLOCKED_ADDRESS_PUBLIC = 'blocked: private address';

export class BlockedAddressError extends Error {
  readonly code = 'ERR_WEBHOOK_ADDRESS_BLOCKED';
  readonly address: string;
  readonly reason: string;
  /** Safe to show the tenant; `message` is for operators only. */
  readonly publicMessage = BLOCKED_ADDRESS_PUBLIC;

  constructor(address: string, reason: string, hostname?: string) {
    const via = hostname && hostname !== address ? ` (resolved from ${hostname})` : '';
    super(`address ${address}${via} is not allowed: ${reason}`);
    this.name = 'BlockedAddressError';
    this.address = address;
    this.reason = reason;
  }
}

/**
 * Wraps a DNS lookup so every resolved address is checked at connect time, i.e. on the very
 * addresses the socket will use; checking at registration alone would miss DNS changes/rebinding.
 * One bad address blocks the host: with happy eyeballs we do not control which one is tried.
 */
export function guardLookup(base: LookupFunction = dns.lookup as LookupFunction): LookupFunction {
  return (hostname, options, callback) => {
    base(hostname, options, (err, address, family) => {
      if (err) return callback(err, address, family);
      const entries = Array.isArray(address) ? address.map((a) => a.address) : [address];
      for (const entry of entries) {
        const reason = deniedAddressReason(entry);
        if (reason)
          return callback(new BlockedAddressError(entry, reason, hostname), address, family);
      }
      callback(null, address, family);
    });
  };
}
