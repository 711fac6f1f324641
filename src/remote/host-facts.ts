/**
 * What provisioning needs to know about a machine, read in one round trip: architecture,
 * memory, distribution, boot id (a reboot changes it), the NixOS marker file, the version of an
 * installed NixOS and the default route. The script only reads; its output is `key=value` lines,
 * then os-release verbatim after a separator, parsed by `parseHostFacts`.
 */
export const HOST_FACTS_SCRIPT = [
  'echo "arch=$(uname -m)"',
  `echo "mem_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)"`,
  'echo "boot_id=$(cat /proc/sys/kernel/random/boot_id)"',
  'if [ -e /etc/NIXOS ]; then echo nixos_marker=yes; else echo nixos_marker=no; fi',
  // nixos-version exists only on NixOS; elsewhere this prints nothing.
  'echo "nixos_version=$(nixos-version 2>/dev/null | head -n 1)"',
  'echo "default_route=$(ip -4 route show default 2>/dev/null | head -n 1)"',
  'echo "--- os-release ---"',
  'cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null || true',
].join('\n');

export interface OsRelease {
  /** `ID`, e.g. `ubuntu`, `debian`, `nixos`; empty when the file is missing. */
  readonly id: string;
  readonly versionId: string;
  /** `PRETTY_NAME`, or id + version when absent. */
  readonly prettyName: string;
}

export interface HostFacts {
  /** `uname -m`: x86_64, aarch64, ... */
  readonly arch: string;
  readonly memoryMiB: number;
  readonly bootId: string;
  /** /etc/NIXOS exists (written by a NixOS system, and by nixos-infect before its reboot). */
  readonly nixosMarker: boolean;
  /** `nixos-version` output; empty when the command is missing. */
  readonly nixosVersion: string;
  /** First `ip -4 route show default` line; empty when there is none. */
  readonly defaultRoute: string;
  readonly os: OsRelease;
}

/** Reads os-release's `KEY=value` lines; values may be double- or single-quoted. */
export function parseOsRelease(text: string): OsRelease {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match === null) continue;
    let value = (match[2] ?? '').trim();
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\(["$`\\])/g, '$1');
    }
    values.set(match[1] as string, value);
  }
  const id = (values.get('ID') ?? '').toLowerCase();
  const versionId = values.get('VERSION_ID') ?? '';
  const prettyName = values.get('PRETTY_NAME') ?? [id, versionId].filter(Boolean).join(' ');
  return { id, versionId, prettyName };
}

export function parseHostFacts(stdout: string): HostFacts {
  const [head = '', osText = ''] = stdout.split('--- os-release ---\n');
  const fields = new Map<string, string>();
  for (const line of head.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) fields.set(line.slice(0, eq), line.slice(eq + 1).trim());
  }
  const memKb = Number(fields.get('mem_kb'));
  return {
    arch: fields.get('arch') ?? '',
    memoryMiB: Number.isFinite(memKb) ? Math.floor(memKb / 1024) : 0,
    bootId: fields.get('boot_id') ?? '',
    nixosMarker: fields.get('nixos_marker') === 'yes',
    nixosVersion: fields.get('nixos_version') ?? '',
    defaultRoute: fields.get('default_route') ?? '',
    os: parseOsRelease(osText),
  };
}

/** Running NixOS (not merely infected and waiting for its reboot): the distribution says so. */
export function runsNixos(facts: HostFacts): boolean {
  return facts.os.id === 'nixos';
}

/** Nix's name for the platform, used by flake.nix's hwArch; undefined when NixOS has none. */
export function nixSystemFor(arch: string): string | undefined {
  switch (arch) {
    case 'x86_64':
    case 'amd64':
      return 'x86_64-linux';
    case 'aarch64':
    case 'arm64':
      return 'aarch64-linux';
    default:
      return undefined;
  }
}
