/**
 * Everything `status` reads from a node, in one round trip. The script only reads; each value
 * is one `key=value` line (paths and words, no spaces), then the failed units and the state
 * file verbatim after separators, parsed by `parseStatusReport`.
 */
export const NODE_STATE_PATH = '/var/lib/nix-infra/state.json';

export const STATUS_SCRIPT = [
  'echo "arch=$(uname -m)"',
  'echo "boot_id=$(cat /proc/sys/kernel/random/boot_id)"',
  'echo "running_kernel=$(uname -r)"',
  // readlink -e: the store path itself, whatever chain of links leads there; nothing when a link
  // is missing (-f would print the path it looked for, which reads as a different system).
  'echo "current_system=$(readlink -e /run/current-system 2>/dev/null)"',
  'echo "booted_system=$(readlink -e /run/booted-system 2>/dev/null)"',
  'echo "profile_system=$(readlink -e /nix/var/nix/profiles/system 2>/dev/null)"',
  'echo "current_kernel=$(cat /run/current-system/kernel 2>/dev/null || readlink -e /run/current-system/kernel 2>/dev/null)"',
  'echo "booted_kernel=$(cat /run/booted-system/kernel 2>/dev/null || readlink -e /run/booted-system/kernel 2>/dev/null)"',
  'echo "nixos_version=$(nixos-version 2>/dev/null | head -n 1 | cut -d" " -f1)"',
  'echo "--- failed-units ---"',
  'systemctl --failed --plain --no-legend --no-pager 2>/dev/null | cut -d" " -f1',
  'echo "--- state ---"',
  `cat ${NODE_STATE_PATH} 2>/dev/null || true`,
].join('\n');

export interface StatusReport {
  readonly arch: string;
  readonly bootId: string;
  readonly runningKernel: string;
  /** Store paths; empty when the link does not exist (not NixOS, or never activated). */
  readonly currentSystem: string;
  readonly bootedSystem: string;
  readonly profileSystem: string;
  readonly currentKernel: string;
  readonly bootedKernel: string;
  /** e.g. `25.05.20250101.abcdef`; empty off NixOS. */
  readonly nixosVersion: string;
  readonly failedUnits: readonly string[];
  /** The state file's text as found (parsed by the core, which knows its shape). */
  readonly stateText: string;
}

export function parseStatusReport(text: string): StatusReport {
  // Sections are whole lines; an empty section leaves two markers on consecutive lines.
  const lines = text.split('\n');
  const failedAt = lines.indexOf('--- failed-units ---');
  const stateAt = lines.indexOf('--- state ---');
  const head = (failedAt < 0 ? lines : lines.slice(0, failedAt)).join('\n');
  const failed = failedAt < 0 ? '' : lines.slice(failedAt + 1, stateAt < 0 ? undefined : stateAt).join('\n');
  const state = stateAt < 0 ? '' : lines.slice(stateAt + 1).join('\n');
  const values = new Map<string, string>();
  for (const line of head.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) values.set(line.slice(0, eq), line.slice(eq + 1).trim());
  }
  const get = (key: string): string => values.get(key) ?? '';
  return {
    arch: get('arch'),
    bootId: get('boot_id'),
    runningKernel: get('running_kernel'),
    currentSystem: get('current_system'),
    bootedSystem: get('booted_system'),
    profileSystem: get('profile_system'),
    currentKernel: get('current_kernel'),
    bootedKernel: get('booted_kernel'),
    nixosVersion: get('nixos_version'),
    failedUnits: failed.split('\n').map((l) => l.trim()).filter((l) => /^[A-Za-z0-9_:@.\\-]+$/.test(l)),
    stateText: state.trim(),
  };
}
