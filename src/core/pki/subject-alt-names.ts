import { isIPv4, isIPv6 } from 'node:net';
import type { SubjectAltNames } from '../../ports/pki.js';

/**
 * SubjectAltName rules for leaf certificates. IPs are compared in one canonical text form
 * (IPv4 dotted decimal, IPv6 as RFC 5952), so `2001:db8::1` and `2001:DB8:0:0::1` are the same
 * address and an unchanged node never gets a new certificate because of spelling.
 */

/** The address every node cert carries, so local clients (etcdctl on the node) verify it. */
export const LOOPBACK = '127.0.0.1';

function ipv6Groups(text: string): number[] {
  let rest = text;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(rest);
  if (v4 !== null) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    rest = `${rest.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = rest.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? [] : new Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...fill, ...tailGroups].map((group) => parseInt(group, 16));
}

/** Canonical text of an IP address, or undefined when `text` is not one. */
export function canonicalIp(text: string): string | undefined {
  const trimmed = text.trim();
  if (isIPv4(trimmed)) return trimmed.split('.').map(Number).join('.');
  if (!isIPv6(trimmed) || trimmed.includes('%')) return undefined;
  const groups = ipv6Groups(trimmed);
  // RFC 5952: compress the longest run (at least two) of zero groups, the first on a tie.
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j += 1;
    if (j - i > best.length) best = { start: i, length: j - i };
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.length < 2) return hex.join(':');
  return `${hex.slice(0, best.start).join(':')}::${hex.slice(best.start + best.length).join(':')}`;
}

/** Deduplicated canonical IPs, in first-seen order; throws `invalid(value)` for a value that is not an IP. */
export function canonicalIps(values: readonly string[], invalid: (value: string) => Error): string[] {
  const result: string[] = [];
  for (const value of values) {
    const ip = canonicalIp(value);
    if (ip === undefined) throw invalid(value);
    if (!result.includes(ip)) result.push(ip);
  }
  return result;
}

/** SAN entries as openssl prints them (`IP Address:`/`DNS:` shortened to `IP:`/`DNS:`). */
function entries(sans: SubjectAltNames): Set<string> {
  const ips = sans.ips.map((ip) => `IP:${canonicalIp(ip) ?? ip}`);
  const dns = sans.dnsNames.map((name) => `DNS:${name.toLowerCase()}`);
  return new Set([...ips, ...dns]);
}

/** What `want` has that `have` lacks, and the other way round; both empty when they match. */
export function sanDifference(have: SubjectAltNames, want: SubjectAltNames): { added: string[]; removed: string[] } {
  const a = entries(have);
  const b = entries(want);
  return { added: [...b].filter((e) => !a.has(e)), removed: [...a].filter((e) => !b.has(e)) };
}
