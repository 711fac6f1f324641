import { UserError } from '../domain/errors.js';
import { secretNameProblem } from '../domain/names.js';
import type { RemoteCommand } from '../ports/remote-host.js';

/**
 * The remote commands that deploy secrets to a node. Every builder returns an argv of the form
 * `sh -c <fixed script> <$0> <arguments...>`: the script text never changes and reads its
 * inputs only from positional parameters, and the adapter quotes each argv element once, so no
 * name or path is ever interpreted by a shell. Secret values never appear here: they travel on
 * the command's stdin.
 *
 * Layout on the node:
 * - `/root/secrets/` (0700): one `systemd-creds` credential per secret, named exactly like the
 *   secret (0600), plus the manifest `.nix-infra-hashes` (0600) of keyed hashes, never values.
 * - `/run/keys/` (0700, tmpfs): pre-build secrets as plaintext (0400), plus their own manifest,
 *   which a reboot clears together with the keys.
 * Temporary files start with `.nix-infra-tmp.`; secret names never start with `.`.
 */
export const SECRETS_DIR = '/root/secrets';
export const PRE_BUILD_DIR = '/run/keys';
export const MANIFEST_NAME = '.nix-infra-hashes';
/** `$0` of every script, so `ps` and error messages say who ran it. */
export const SCRIPT_NAME = 'nix-infra-secrets';

/** The directory and the manifest's name must be plain absolute paths we chose. */
const PLAIN_DIR = /^\/[A-Za-z0-9._/-]+$/;

function checkDir(dir: string): string {
  if (!PLAIN_DIR.test(dir) || dir.split('/').includes('..')) throw new Error(`internal: not a plain directory: ${dir}`);
  return dir;
}

/** Refuses a name that could address anything outside the directory (defence in depth). */
export function checkSecretName(name: string): string {
  const problem = secretNameProblem(name);
  if (problem !== undefined) throw new UserError(`invalid secret name ${JSON.stringify(name)}: ${problem}`);
  return name;
}

/**
 * Prints what is in the directory and its manifest: one `<type> <name>` record per entry (type as
 * find's %y: f, d, l, ...), each ended by NUL, then an empty record, then the manifest's text
 * (nothing when it is missing). With `create`, the directory is first created 0700 (and made
 * exactly 0700 when it existed); without, a missing directory reads as empty and nothing is
 * changed. Temporary files older than an hour (from a run that was cut off) are removed; they
 * hold ciphertext, hashes, or a pre-build key on tmpfs.
 */
const STATE_SCRIPT = [
  'set -eu',
  'umask 077',
  'if [ "$3" = create ]; then',
  '  mkdir -p -- "$1"',
  '  chmod 0700 -- "$1"',
  'fi',
  'if [ -d "$1" ]; then',
  `  find "$1" -mindepth 1 -maxdepth 1 -type f -name '.nix-infra-tmp.*' -mmin +60 -exec rm -f -- {} +`,
  `  find "$1" -mindepth 1 -maxdepth 1 -printf '%y %f\\0'`,
  'fi',
  `printf '\\0'`,
  'if [ -f "$1/$2" ]; then cat -- "$1/$2"; fi',
].join('\n');

export function stateCommand(dir: string, create: boolean): RemoteCommand {
  return { argv: ['sh', '-c', STATE_SCRIPT, SCRIPT_NAME, checkDir(dir), MANIFEST_NAME, create ? 'create' : 'read'] };
}

/**
 * Encrypts stdin with `systemd-creds` into a temporary file next to the target, then renames it
 * over `<dir>/<name>`. The credential's embedded name is given explicitly: the default would be
 * the temporary file's name, and systemd checks it against `LoadCredentialEncrypted=<name>:`.
 * A failed encrypt leaves the old credential (if any) in place and no temporary file.
 */
const ENCRYPT_SCRIPT = [
  'set -eu',
  'umask 077',
  'tmp="$1/.nix-infra-tmp.$2.$$"',
  `trap 'rm -f -- "$tmp"' EXIT`,
  `trap 'exit 129' HUP INT TERM`,
  'systemd-creds encrypt --name="$2" - "$tmp"',
  'chmod 0600 -- "$tmp"',
  'mv -f -- "$tmp" "$1/$2"',
].join('\n');

/** stdin: the secret's plaintext. */
export function encryptCommand(name: string, dir: string = SECRETS_DIR): RemoteCommand {
  return { argv: ['sh', '-c', ENCRYPT_SCRIPT, SCRIPT_NAME, checkDir(dir), checkSecretName(name)] };
}

/**
 * Writes stdin to `<dir>/<file>` with `mode` through a temporary sibling (created owner-only by
 * the umask, so no other user can open it meanwhile) and a rename. Used for pre-build secrets
 * (plaintext, tmpfs) and for the manifests (hashes only). A missing directory is created 0700;
 * an existing one keeps its mode (each file is 0400/0600 and root's anyway).
 */
const WRITE_SCRIPT = [
  'set -eu',
  'umask 077',
  // A folder that exists keeps its mode: NixOS gives /run/keys 0750 root:keys on purpose.
  '[ -d "$1" ] || mkdir -p -m 0700 -- "$1"',
  'tmp="$1/.nix-infra-tmp.$2.$$"',
  `trap 'rm -f -- "$tmp"' EXIT`,
  `trap 'exit 129' HUP INT TERM`,
  'cat > "$tmp"',
  'chmod "$3" -- "$tmp"',
  'mv -f -- "$tmp" "$1/$2"',
].join('\n');

/** stdin: the pre-build secret's plaintext. Lands as `<dir>/<name>`, mode 0400. */
export function writePreBuildCommand(name: string, dir: string = PRE_BUILD_DIR): RemoteCommand {
  return { argv: ['sh', '-c', WRITE_SCRIPT, SCRIPT_NAME, checkDir(dir), checkSecretName(name), '0400'] };
}

/** stdin: the manifest's text (see `formatManifest`). */
export function writeManifestCommand(dir: string): RemoteCommand {
  return { argv: ['sh', '-c', WRITE_SCRIPT, SCRIPT_NAME, checkDir(dir), MANIFEST_NAME, '0600'] };
}

/** Removes `<dir>/<name>` for each name; a symlink is removed itself, never what it points to. */
const REMOVE_SCRIPT = ['set -eu', 'dir=$1', 'shift', 'for name do', '  rm -f -- "$dir/$name"', 'done'].join('\n');

export function removeCommand(dir: string, names: readonly string[]): RemoteCommand {
  if (names.length === 0) throw new Error('internal: nothing to remove');
  return { argv: ['sh', '-c', REMOVE_SCRIPT, SCRIPT_NAME, checkDir(dir), ...names.map(checkSecretName)] };
}

export interface DirEntry {
  /** find's %y: `f` regular file, `d` directory, `l` symlink, ... */
  readonly type: string;
  readonly name: string;
}

export interface DirState {
  readonly entries: readonly DirEntry[];
  /** The manifest's text; empty when there is none. */
  readonly manifest: string;
}

/** Parses `stateCommand`'s output. */
export function parseState(stdout: Buffer): DirState {
  const entries: DirEntry[] = [];
  let at = 0;
  for (;;) {
    const end = stdout.indexOf(0, at);
    if (end === -1) throw new Error('unexpected output from the secrets state script (no end of listing)');
    const record = stdout.subarray(at, end).toString('utf8');
    at = end + 1;
    if (record === '') break;
    const space = record.indexOf(' ');
    if (space <= 0) throw new Error('unexpected output from the secrets state script (bad listing record)');
    entries.push({ type: record.slice(0, space), name: record.slice(space + 1) });
  }
  return { entries, manifest: stdout.subarray(at).toString('utf8') };
}

const MANIFEST_HEADER = 'nix-infra-hashes v1';
const HASH = /^[0-9a-f]{64}$/;

/**
 * The manifest: a header line, then `<name> <hmac hex>` per secret, sorted by name. A file with
 * another header (or none) counts as empty, so every secret is sent again; lines that do not
 * parse are dropped.
 */
export function parseManifest(text: string): Map<string, string> {
  const hashes = new Map<string, string>();
  const lines = text.split('\n');
  if (lines[0] !== MANIFEST_HEADER) return hashes;
  for (const line of lines.slice(1)) {
    const [name, hash, ...rest] = line.split(' ');
    if (name === undefined || hash === undefined || rest.length > 0) continue;
    if (secretNameProblem(name) !== undefined || !HASH.test(hash)) continue;
    hashes.set(name, hash);
  }
  return hashes;
}

export function formatManifest(hashes: ReadonlyMap<string, string>): string {
  const names = [...hashes.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return [MANIFEST_HEADER, ...names.map((name) => `${checkSecretName(name)} ${hashes.get(name) ?? ''}`)].join('\n') + '\n';
}
