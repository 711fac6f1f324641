import { isDeepStrictEqual } from 'node:util';
import { UserError } from '../../domain/errors.js';
import type { ControlPlane, PutOutcome } from '../../ports/control-plane.js';
import { blockSize, contains, ipv4ToNumber, isAligned, isIpv4, parseCidr } from './ipv4.js';
import { FLANNEL_CONFIG_KEY, FLANNEL_SUBNETS_PREFIX } from './layout.js';

/**
 * flannel's network config at `/coreos.com/network/config` and its subnet leases.
 *
 * Upstream (upstream-templates.md §3.4) lets the NixOS flannel unit write the config on every
 * start: network 10.0.0.0/8, SubnetMin 10.10.0.0, SubnetMax 10.99.0.0, SubnetLen 24 (the NixOS
 * default), backend WireGuard with PersistentKeepaliveInterval 60 (interface `flannel-wg`,
 * flannel's default name). These are our defaults too, so a config we seed is the same document
 * the template would write, byte for byte: Nix's `builtins.toJSON` sorts keys and is compact,
 * and so is `flannelConfigJson`.
 */

export interface FlannelBackend {
  readonly Type: 'wireguard';
  readonly PersistentKeepaliveInterval: number;
}

/** The JSON document flannel reads (field names are flannel's). */
export interface FlannelNetworkConfig {
  readonly Network: string;
  readonly SubnetLen: number;
  readonly SubnetMin?: string;
  readonly SubnetMax?: string;
  readonly Backend: FlannelBackend;
}

export const DEFAULT_FLANNEL_NETWORK = '10.0.0.0/8';
export const DEFAULT_FLANNEL_SUBNET_MIN = '10.10.0.0';
export const DEFAULT_FLANNEL_SUBNET_MAX = '10.99.0.0';
export const DEFAULT_FLANNEL_SUBNET_LEN = 24;
export const DEFAULT_WIREGUARD_KEEPALIVE_SECONDS = 60;

export interface FlannelConfigOptions {
  /** IPv4 CIDR of the whole overlay. Default 10.0.0.0/8. */
  readonly network?: string;
  /** Prefix length of each node's subnet. Default 24. */
  readonly subnetLen?: number;
  /**
   * First and last subnet flannel may hand out. Default 10.10.0.0 and 10.99.0.0 with the default
   * network; with another network, flannel's own defaults (the whole network) unless given.
   */
  readonly subnetMin?: string;
  readonly subnetMax?: string;
  /** WireGuard PersistentKeepaliveInterval in seconds (0 turns it off). Default 60. */
  readonly keepaliveSeconds?: number;
}

function invalid(message: string): never {
  throw new UserError(`flannel network config: ${message}`);
}

/** Builds (and checks) the network config; the defaults reproduce upstream's template. */
export function buildFlannelConfig(options: FlannelConfigOptions = {}): FlannelNetworkConfig {
  const networkText = options.network ?? DEFAULT_FLANNEL_NETWORK;
  const network = parseCidr(networkText);
  if (network === undefined) invalid(`network ${JSON.stringify(networkText)} is not an IPv4 CIDR (a.b.c.d/len)`);
  if (!isAligned(network.address, network.prefixLength)) invalid(`network ${networkText} has host bits set`);
  const subnetLen = options.subnetLen ?? DEFAULT_FLANNEL_SUBNET_LEN;
  if (!Number.isInteger(subnetLen) || subnetLen <= network.prefixLength || subnetLen > 30) {
    invalid(`subnet length ${subnetLen} must be an integer longer than the network's /${network.prefixLength} and at most 30`);
  }
  const usesDefaultNetwork = options.network === undefined || networkText === DEFAULT_FLANNEL_NETWORK;
  const subnetMin = options.subnetMin ?? (usesDefaultNetwork ? DEFAULT_FLANNEL_SUBNET_MIN : undefined);
  const subnetMax = options.subnetMax ?? (usesDefaultNetwork ? DEFAULT_FLANNEL_SUBNET_MAX : undefined);
  for (const [name, value] of [['SubnetMin', subnetMin], ['SubnetMax', subnetMax]] as const) {
    if (value === undefined) continue;
    if (!isIpv4(value)) invalid(`${name} ${JSON.stringify(value)} is not an IPv4 address`);
    if (!contains(network, value)) invalid(`${name} ${value} is outside ${networkText}`);
    if (!isAligned(value, subnetLen)) invalid(`${name} ${value} is not the start of a /${subnetLen} subnet`);
  }
  if (subnetMin !== undefined && subnetMax !== undefined && (ipv4ToNumber(subnetMin) as number) > (ipv4ToNumber(subnetMax) as number)) {
    invalid(`SubnetMin ${subnetMin} is above SubnetMax ${subnetMax}`);
  }
  if (blockSize(network.prefixLength) / blockSize(subnetLen) < 2) invalid(`${networkText} holds fewer than two /${subnetLen} subnets`);
  const keepalive = options.keepaliveSeconds ?? DEFAULT_WIREGUARD_KEEPALIVE_SECONDS;
  if (!Number.isInteger(keepalive) || keepalive < 0 || keepalive > 65535) invalid(`keepalive ${keepalive} must be 0-65535 seconds`);
  return {
    Network: networkText,
    SubnetLen: subnetLen,
    ...(subnetMin === undefined ? {} : { SubnetMin: subnetMin }),
    ...(subnetMax === undefined ? {} : { SubnetMax: subnetMax }),
    Backend: { Type: 'wireguard', PersistentKeepaliveInterval: keepalive },
  };
}

/** Compact JSON with keys sorted at every level (what Nix's builtins.toJSON writes). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const record = v as Record<string, unknown>;
    return Object.fromEntries(Object.keys(record).sort().map((k) => [k, record[k]]));
  });
}

export function flannelConfigJson(config: FlannelNetworkConfig): string {
  return canonicalJson(config);
}

export interface SeedResult {
  readonly key: string;
  /** `created`: there was none; `updated`: a different one was replaced; `unchanged`: same document already there. */
  readonly outcome: PutOutcome;
  /** The config that was replaced (`updated` only), as stored. */
  readonly previous?: string;
}

/**
 * Writes the network config only when it is absent or different. "Different" is judged on the
 * parsed JSON, so a config with the same content in another key order or spacing (written by
 * the NixOS unit, or by hand) is left alone.
 */
export async function seedFlannelConfig(controlPlane: ControlPlane, config: FlannelNetworkConfig): Promise<SeedResult> {
  const existing = await controlPlane.get(FLANNEL_CONFIG_KEY);
  if (existing !== undefined && isDeepStrictEqual(parseJson(existing), JSON.parse(flannelConfigJson(config)))) {
    return { key: FLANNEL_CONFIG_KEY, outcome: 'unchanged' };
  }
  const result = await controlPlane.putIfChanged(FLANNEL_CONFIG_KEY, flannelConfigJson(config));
  return { key: FLANNEL_CONFIG_KEY, ...result };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** One flannel subnet lease, parsed from `/coreos.com/network/subnets/<a.b.c.d>-<len>`. */
export interface FlannelLease {
  readonly key: string;
  /** `10.10.93.0/24` */
  readonly subnet: string;
  /** The node's overlay address: the subnet's first address, as upstream uses it (`10.10.93.0`). */
  readonly overlayIp: string;
  /** The node's public IPv4 (`PublicIP` in the lease). */
  readonly publicIp: string;
  readonly backendType?: string;
  /** WireGuard public key from `BackendData.PublicKey`, when present. */
  readonly wireguardPublicKey?: string;
}

export type LeaseParse = { readonly ok: true; readonly lease: FlannelLease } | { readonly ok: false; readonly reason: string };

/** Parses one lease entry; never throws (a broken lease is reported, not fatal). */
export function parseLease(key: string, value: string): LeaseParse {
  if (!key.startsWith(FLANNEL_SUBNETS_PREFIX)) return { ok: false, reason: 'not under /coreos.com/network/subnets/' };
  const name = key.slice(FLANNEL_SUBNETS_PREFIX.length);
  const cidr = name.includes('/') ? undefined : parseCidr(name, '-');
  if (cidr === undefined) return { ok: false, reason: 'the key does not name a subnet (a.b.c.d-len)' };
  const data = parseJson(value);
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return { ok: false, reason: 'the value is not a JSON object' };
  const record = data as Record<string, unknown>;
  const publicIp = record['PublicIP'];
  if (typeof publicIp !== 'string' || !isIpv4(publicIp)) return { ok: false, reason: 'the lease has no IPv4 PublicIP' };
  const backendType = typeof record['BackendType'] === 'string' ? record['BackendType'] : undefined;
  const backendData = record['BackendData'];
  const publicKey =
    backendData !== null && typeof backendData === 'object' && typeof (backendData as Record<string, unknown>)['PublicKey'] === 'string'
      ? ((backendData as Record<string, unknown>)['PublicKey'] as string)
      : undefined;
  return {
    ok: true,
    lease: {
      key,
      subnet: `${cidr.address}/${cidr.prefixLength}`,
      overlayIp: cidr.address,
      publicIp,
      ...(backendType === undefined ? {} : { backendType }),
      ...(publicKey === undefined ? {} : { wireguardPublicKey: publicKey }),
    },
  };
}

export interface ParsedLeases {
  readonly leases: readonly FlannelLease[];
  readonly problems: readonly { readonly key: string; readonly reason: string }[];
}

export function parseLeases(entries: ReadonlyMap<string, string>): ParsedLeases {
  const leases: FlannelLease[] = [];
  const problems: { key: string; reason: string }[] = [];
  for (const [key, value] of entries) {
    if (!key.startsWith(FLANNEL_SUBNETS_PREFIX)) continue;
    const parsed = parseLease(key, value);
    if (parsed.ok) leases.push(parsed.lease);
    else problems.push({ key, reason: parsed.reason });
  }
  return { leases, problems };
}

/** Reads every lease (broken ones are reported in `problems`). */
export async function readLeases(controlPlane: ControlPlane): Promise<ParsedLeases> {
  return parseLeases(await controlPlane.getPrefix(FLANNEL_SUBNETS_PREFIX));
}
