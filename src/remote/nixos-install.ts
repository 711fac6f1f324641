import { UserError } from '../domain/errors.js';

/**
 * Where nixos-infect comes from. The default is a fixed commit of the upstream project, never a
 * branch: what runs as root on every new machine must not change under us. Operators who review
 * a newer commit (or mirror the script) set the source and ref themselves.
 */
export const DEFAULT_INFECT_SOURCE = 'https://raw.githubusercontent.com/elitak/nixos-infect';
export const DEFAULT_INFECT_REF = '30441b1236a3f5e426b72ecf2ba2f4f91127ca0e';

export interface InfectSource {
  /** Base URL of the repository's raw files: https, http or file (for local mirrors and tests). */
  readonly base: string;
  /** Commit (or tag) under the base. */
  readonly ref: string;
  /** Expected SHA-256 of the downloaded script; checked on the node when given. */
  readonly sha256?: string;
}

/** Where the CLI puts its files on the machine being converted (0700: configuration and script). */
export const PROVISION_DIR = '/root/nix-infra-provision';
export const INSTALL_SCRIPT_PATH = `${PROVISION_DIR}/install-nixos.sh`;
export const STAGED_CONFIGURATION_PATH = `${PROVISION_DIR}/configuration.nix`;

const REF = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const NIXOS_VERSION = /^(\d{2}\.\d{2}|unstable)$/;
/** Mutation names become a path segment of a URL: letters, digits, `-`, `_`, `.` only. */
const MUTATION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function checkInfectSource(source: InfectSource): InfectSource {
  let url: URL;
  try {
    url = new URL(source.base);
  } catch {
    throw new UserError(`--nixos-infect-source is not a URL: ${source.base}`);
  }
  if (!['https:', 'http:', 'file:'].includes(url.protocol)) {
    throw new UserError(`--nixos-infect-source must be an https, http or file URL: ${source.base}`);
  }
  if (!REF.test(source.ref) || source.ref.includes('..')) {
    throw new UserError(`--nixos-infect-ref is not a commit or tag name: ${JSON.stringify(source.ref)}`);
  }
  if (source.sha256 !== undefined && !SHA256.test(source.sha256)) {
    throw new UserError('--nixos-infect-sha256 must be 64 lowercase hex digits');
  }
  // What runs as root on every new machine must be fixed: over plain http anyone on the path can
  // swap it, and a tag or branch can move. A commit over https, or a local file, is fixed enough.
  const fixed = url.protocol === 'file:' || (url.protocol === 'https:' && /^[0-9a-f]{40}$/.test(source.ref));
  if (!fixed && source.sha256 === undefined) {
    throw new UserError(`${url.protocol === 'http:' ? 'an http' : 'a tag or branch'} nixos-infect source needs --nixos-infect-sha256`, {
      hints: ['pin a 40-hex commit over https, or give the script\'s SHA-256 (sha256sum nixos-infect)'],
    });
  }
  return { ...source, base: source.base.replace(/\/+$/, '') };
}

export function checkNixosVersion(version: string): string {
  if (!NIXOS_VERSION.test(version)) {
    throw new UserError(`--nixos-version must be a NixOS release such as 25.05 (or "unstable"), not ${JSON.stringify(version)}`);
  }
  return version;
}

export function checkMutationName(name: string): string {
  if (!MUTATION.test(name) || name.includes('..')) {
    throw new UserError(`--mutation must be a plain name (letters, digits, ".", "-", "_"), not ${JSON.stringify(name)}`);
  }
  return name;
}

/** The script's URL: nixos-infect itself, or a mutation script of the same source. */
export function infectScriptUrl(source: InfectSource, mutation?: string): string {
  return mutation === undefined ? `${source.base}/${source.ref}/nixos-infect` : `${source.base}/${source.ref}/mutations/${mutation}`;
}

export interface InstallRequest {
  readonly nixosVersion: string;
  readonly source: InfectSource;
  /** Set for a mutation (in-place conversion, no reboot). */
  readonly mutation?: string;
  /**
   * Write networking.nix with the current static addresses and routes. Hetzner needs it: its
   * default route goes to a gateway outside the server's /32, reachable only by an on-link route.
   */
  readonly staticNetwork: boolean;
  /** nixos-infect's PROVIDER variable (e.g. `hetznercloud`), when the machine's cloud is known. */
  readonly cloud?: string;
}

/**
 * The remote command that converts the machine: the uploaded script run under `env` with every
 * input as its own argv element (quoted by the SSH adapter), so nothing is interpreted twice.
 * The script downloads the pinned nixos-infect, checks its hash, runs it without rebooting, and
 * installs our configuration.nix. The reboot is a separate step, so its exit status is seen.
 */
export function installCommand(request: InstallRequest): { argv: string[] } {
  const env = [
    `NIX_CHANNEL=nixos-${checkNixosVersion(request.nixosVersion)}`,
    'NO_REBOOT=1',
    `NIX_INFRA_INFECT_URL=${infectScriptUrl(checkInfectSource(request.source), request.mutation === undefined ? undefined : checkMutationName(request.mutation))}`,
    `NIX_INFRA_MUTATION=${request.mutation === undefined ? '0' : '1'}`,
  ];
  if (request.source.sha256 !== undefined) env.push(`NIX_INFRA_INFECT_SHA256=${request.source.sha256}`);
  if (request.staticNetwork) env.push('doNetConf=y');
  if (request.cloud !== undefined) env.push(`PROVIDER=${request.cloud}`);
  return { argv: ['env', ...env, 'bash', INSTALL_SCRIPT_PATH] };
}

/**
 * Schedules a reboot a second from now and returns at once, so the command's exit status
 * arrives before the connection drops. setsid + nohup keep it alive when the session ends.
 */
export const REBOOT_SOON = {
  script: "if command -v setsid >/dev/null; then setsid nohup sh -c 'sleep 1; reboot' >/dev/null 2>&1 </dev/null & else nohup sh -c 'sleep 1; reboot' >/dev/null 2>&1 </dev/null & fi",
} as const;

/**
 * The host key NixOS presents after the conversion's reboot. The install script keeps it through
 * the lustration (listed in /etc/NIXOS_LUSTRATE; made first if the machine had none), and NixOS
 * serves it because it is on the default `services.openssh.hostKeys` path and NixOS only makes
 * host keys that are missing. Read over the trusted connection before the reboot, so the first
 * login afterwards can demand exactly this key.
 */
export const NIXOS_HOST_KEY_PUB = '/etc/ssh/ssh_host_ed25519_key.pub';
export const READ_NIXOS_HOST_KEY = { argv: ['cat', NIXOS_HOST_KEY_PUB] } as const;

/** The first rebuild after the conversion: builds the project's configuration.nix. */
export const FIRST_REBUILD = { argv: ['nixos-rebuild', 'switch'] } as const;
/** Every later rebuild is the same command. */
export const REBUILD = FIRST_REBUILD;
