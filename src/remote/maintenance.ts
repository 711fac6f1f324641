/** Remote commands of the day-two operations, as argv (each element quoted once by the adapter). */
export const GARBAGE_COLLECT = { argv: ['nix-collect-garbage', '-d'] } as const;
export const ROLLBACK = { argv: ['nixos-rebuild', 'switch', '--rollback'] } as const;
export const NIXOS_VERSION = { argv: ['nixos-version'] } as const;
export const CHANNEL_UPDATE = { argv: ['nix-channel', '--update'] } as const;

/** Points the `nixos` channel at the release (for nix-shell and non-flake tools on the node). */
export function channelAdd(nixosVersion: string): { argv: string[] } {
  return { argv: ['nix-channel', '--add', `https://nixos.org/channels/nixos-${nixosVersion}`, 'nixos'] };
}
