/** Small IPv4 helpers for flannel configs and leases (dotted quads only, no shorthand forms). */

const QUAD = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIpv4(text: string): boolean {
  return QUAD.test(text);
}

/** The address as an unsigned 32-bit number, or undefined when `text` is not a dotted quad. */
export function ipv4ToNumber(text: string): number | undefined {
  if (!isIpv4(text)) return undefined;
  return text.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

export function numberToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export interface Ipv4Cidr {
  readonly address: string;
  readonly prefixLength: number;
}

/** `a.b.c.d/len` (or, with `separator: '-'`, flannel's lease key form `a.b.c.d-len`). */
export function parseCidr(text: string, separator: '/' | '-' = '/'): Ipv4Cidr | undefined {
  const at = text.lastIndexOf(separator);
  if (at <= 0) return undefined;
  const address = text.slice(0, at);
  const length = text.slice(at + 1);
  if (!isIpv4(address) || !/^(?:[0-9]|[12][0-9]|3[0-2])$/.test(length)) return undefined;
  return { address, prefixLength: Number(length) };
}

/** Size of a block of the given prefix length. */
export function blockSize(prefixLength: number): number {
  return 2 ** (32 - prefixLength);
}

/** True when `address` has no bits set below `prefixLength`. */
export function isAligned(address: string, prefixLength: number): boolean {
  const value = ipv4ToNumber(address);
  return value !== undefined && value % blockSize(prefixLength) === 0;
}

/** True when `address` lies inside `cidr`. */
export function contains(cidr: Ipv4Cidr, address: string): boolean {
  const base = ipv4ToNumber(cidr.address);
  const value = ipv4ToNumber(address);
  if (base === undefined || value === undefined) return false;
  return value >= base && value < base + blockSize(cidr.prefixLength);
}
