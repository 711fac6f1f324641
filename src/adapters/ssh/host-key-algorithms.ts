import type { HostKey } from '../../remote/known-hosts.js';

/**
 * Which server host-key algorithms to offer. Once a host is pinned, only algorithms for the
 * pinned key types are offered: otherwise the server could legitimately present another of its
 * keys (say ECDSA instead of the pinned Ed25519) and look like a changed key.
 */
const ALGORITHMS_BY_KEY_TYPE: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

export const DEFAULT_HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
];

export function hostKeyAlgorithmsFor(pinned: readonly HostKey[]): string[] {
  const offered = pinned.flatMap((key) => ALGORITHMS_BY_KEY_TYPE[key.type] ?? []);
  return offered.length > 0 ? [...new Set(offered)] : DEFAULT_HOST_KEY_ALGORITHMS;
}
