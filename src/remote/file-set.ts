import { createHash } from 'node:crypto';
import type { RemoteCommand } from '../ports/remote-host.js';
import { tarArchive, type TarEntry } from './tar-stream.js';

/**
 * The two remote commands of a deploy's file transfer (decision 0010): one read of what the node
 * has, and one write of everything that changed. Both are `sh -c <fixed script> <$0> <args>`: the
 * script text never changes and takes its inputs from positional parameters (quoted once by the
 * adapter) and from stdin, so no file name is ever interpreted by a shell.
 */

/** `$0` of the scripts, so `ps` and error messages say who ran them. */
export const FILES_SCRIPT_NAME = 'nix-infra-files';
/** Stage folders: beside the targets (same filesystem, so each move is one rename). */
export const STAGE_PREFIX = '.nix-infra-stage.';
/** Serializes file-set writes to one node (two projects deploying at once). */
export const LOCK_NAME = '.nix-infra-files.lock';

const PLAIN_DIR = /^\/[A-Za-z0-9._/-]+$/;

function checkRoot(root: string): string {
  if (!PLAIN_DIR.test(root) || root.split('/').includes('..') || root.endsWith('/')) throw new Error(`internal: not a plain directory: ${root}`);
  return root;
}

/**
 * Prints, NUL-separated: `uname -m`, then `nixos-version` when asked (else nothing), then one
 * `sha256sum -z` record (`<hex>  <path>`) per file this tool manages under the root: top-level
 * *.nix, modules/ (top level) and the whole app_modules/ tree. Changes nothing.
 */
const FACTS_SCRIPT = [
  'set -u',
  'uname -m',
  `printf '\\0'`,
  'if [ "$2" = version ]; then nixos-version 2>/dev/null || true; fi',
  `printf '\\0'`,
  'if [ -d "$1" ]; then',
  '  {',
  `    find -P "$1" -maxdepth 1 -type f -name '*.nix' -print0`,
  '    if [ -d "$1/modules" ]; then find -P "$1/modules" -maxdepth 1 -type f -print0; fi',
  '    if [ -d "$1/app_modules" ]; then find -P "$1/app_modules" -type f -print0; fi',
  '  } | xargs -0 -r sha256sum -z --',
  'fi',
].join('\n');

export function factsCommand(root: string, readVersion: boolean): RemoteCommand {
  return { argv: ['sh', '-c', FACTS_SCRIPT, FILES_SCRIPT_NAME, checkRoot(root), readVersion ? 'version' : 'no-version'] };
}

export interface NodeFacts {
  /** `uname -m`. */
  readonly machine: string;
  /** `nixos-version`'s output, when it was asked for and answered. */
  readonly nixosVersion: string;
  /** Absolute path -> sha256 hex of every managed file on the node. */
  readonly files: ReadonlyMap<string, string>;
}

export function parseFacts(stdout: Buffer): NodeFacts {
  const records = stdout.toString('utf8').split('\0');
  if (records.length < 3) throw new Error('unexpected output from the node facts script');
  const files = new Map<string, string>();
  for (const record of records.slice(2)) {
    const match = /^([0-9a-f]{64}) {2}(\/.*)$/s.exec(record);
    if (match?.[1] !== undefined && match[2] !== undefined) files.set(match[2], match[1]);
  }
  return { machine: (records[0] ?? '').trim(), nixosVersion: (records[1] ?? '').trim(), files };
}

/**
 * Writes a file set under the root, in one go, while holding the node's lock:
 *  1. leftover stage folders of runs that were killed are removed (nobody else can be using them
 *     while we hold the lock);
 *  2. stdin (a tar archive) is unpacked into a fresh stage folder beside the targets; every
 *     staged file is checked against its sha256, and every file the set keeps unchanged is
 *     checked in place (a mismatch means someone changed it since it was read: nothing is
 *     replaced);
 *  3. only then is each staged file renamed over its target, and (with `prune`) every file in
 *     app_modules/ that the set does not name is removed; the removed paths go to stdout.
 * The EXIT trap removes the stage on any failure, so no part file survives an interrupted or
 * failed transfer; a SIGKILLed run leaves one that step 1 of the next run removes. Errors name
 * the path on stderr.
 */
const APPLY_SCRIPT = [
  'set -eu',
  'umask 022',
  'root=$1 prune=$2',
  `fail() { echo "${FILES_SCRIPT_NAME}: $*" >&2; exit 1; }`,
  'mkdir -p -- "$root" || fail "$root: cannot create the folder"',
  `exec 9>>"$root/${LOCK_NAME}" || fail "$root/${LOCK_NAME}: cannot open the lock"`,
  `flock -w 300 9 || fail "$root/${LOCK_NAME}: another deploy still holds it after 300 s"`,
  `for old in "$root"/${STAGE_PREFIX}*; do if [ -e "$old" ]; then rm -rf -- "$old"; fi; done`,
  `stage=$(mktemp -d "$root/${STAGE_PREFIX}XXXXXX") || fail "$root: cannot create a stage folder"`,
  `trap 'rm -rf -- "$stage"' EXIT`,
  `trap 'exit 129' HUP INT TERM PIPE`,
  'tar -x -m --no-same-owner -C "$stage" -f - || fail "$stage: the file set did not arrive complete (tar exit $?); nothing was replaced"',
  // The archive's last entry: tar may end quietly on a cut at a block boundary, this may not.
  '[ -f "$stage/meta/end" ] || fail "$stage: the file set did not arrive complete; nothing was replaced"',
  'mkdir -p -- "$stage/files" "$stage/meta"',
  'cd "$stage/files"',
  'if [ -s ../meta/changed.sums ]; then sha256sum -c --quiet --strict ../meta/changed.sums >&2 || fail "$stage: a file arrived damaged (checksum mismatch); nothing was replaced"; fi',
  'cd "$root"',
  'if [ -s "$stage/meta/kept.sums" ]; then sha256sum -c --quiet --strict "$stage/meta/kept.sums" >&2 || fail "$root: files changed on the node since this deploy read them (another deploy?); nothing was replaced, run again"; fi',
  'if [ -s "$stage/meta/dirs" ]; then',
  '  while IFS= read -r d; do mkdir -p -- "$root/$d" || fail "$root/$d: cannot create the folder"; done <"$stage/meta/dirs"',
  'fi',
  'if [ -s "$stage/meta/changed.sums" ]; then',
  '  cut -c67- "$stage/meta/changed.sums" >"$stage/meta/changed.list"',
  '  while IFS= read -r f; do',
  '    mkdir -p -- "$(dirname -- "$root/$f")" || fail "$root/$f: cannot create its folder"',
  '    mv -f -T -- "$stage/files/$f" "$root/$f" || fail "$root/$f: cannot replace it"',
  '  done <"$stage/meta/changed.list"',
  'fi',
  'if [ "$prune" = prune ] && [ -d "$root/app_modules" ]; then',
  '  LC_ALL=C sort -z -- "$stage/meta/want.z" >"$stage/meta/want.sorted"',
  '  find -P "$root/app_modules" -type f -print0 | LC_ALL=C sort -z >"$stage/meta/have.sorted"',
  '  LC_ALL=C comm -z -23 "$stage/meta/have.sorted" "$stage/meta/want.sorted" >"$stage/meta/stale.z"',
  '  xargs -0 -r rm -f -- <"$stage/meta/stale.z" || fail "$root/app_modules: cannot remove stale files"',
  '  cat -- "$stage/meta/stale.z"',
  'fi',
].join('\n');

export function applyCommand(root: string, prune: boolean): RemoteCommand {
  return { argv: ['sh', '-c', APPLY_SCRIPT, FILES_SCRIPT_NAME, checkRoot(root), prune ? 'prune' : 'keep'] };
}

export interface FileSetEntry {
  /** Absolute path under the root. */
  readonly remotePath: string;
  readonly content: Buffer;
  readonly mode: number;
}

export interface FileSetPayload {
  /** The tar archive for applyCommand's stdin. */
  readonly archive: Buffer;
  /** Absolute paths that will be replaced (new or different on the node). */
  readonly changed: readonly string[];
  /** Absolute paths already right on the node (checked in place, not sent). */
  readonly unchanged: readonly string[];
}

export function sha256Hex(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

function relativeTo(root: string, remotePath: string): string {
  if (!remotePath.startsWith(`${root}/`)) throw new Error(`internal: ${remotePath} is not under ${root}`);
  const rel = remotePath.slice(root.length + 1);
  if (rel.split('/').some((s) => s === '' || s === '.' || s === '..') || /\p{Cc}/u.test(rel)) throw new Error(`internal: not a plain path: ${remotePath}`);
  return rel;
}

/**
 * The archive for one node: files whose content differs from `onNode` (or that it lacks), their
 * checksums, the checksums of the files kept as they are, the folders to create, and the
 * app_modules/ files the set wants (so the node can tell which ones are stale).
 */
export function fileSetPayload(
  root: string,
  entries: readonly FileSetEntry[],
  directories: readonly string[],
  onNode: ReadonlyMap<string, string>,
  appModulesRoot: string,
): FileSetPayload {
  checkRoot(root);
  const changed: string[] = [];
  const unchanged: string[] = [];
  const changedSums: string[] = [];
  const keptSums: string[] = [];
  const files: TarEntry[] = [];
  const want: string[] = [];
  for (const entry of entries) {
    const rel = relativeTo(root, entry.remotePath);
    const hash = sha256Hex(entry.content);
    if (entry.remotePath.startsWith(`${appModulesRoot}/`)) want.push(entry.remotePath);
    // Modes are not compared: every managed file is 0644 or 0755 as written by this tool.
    if (onNode.get(entry.remotePath) === hash) {
      unchanged.push(entry.remotePath);
      keptSums.push(`${hash}  ${rel}\n`);
    } else {
      changed.push(entry.remotePath);
      changedSums.push(`${hash}  ${rel}\n`);
      files.push({ path: `files/${rel}`, mode: entry.mode, content: entry.content });
    }
  }
  const dirs = directories.map((d) => (d === root ? '.' : relativeTo(root, d)));
  const meta = (name: string, text: string): TarEntry => ({ path: `meta/${name}`, mode: 0o600, content: Buffer.from(text, 'utf8') });
  const archive = tarArchive([
    meta('changed.sums', changedSums.join('')),
    meta('kept.sums', keptSums.join('')),
    meta('dirs', dirs.map((d) => `${d}\n`).join('')),
    meta('want.z', want.map((p) => `${p}\0`).join('')),
    ...files,
    meta('end', ''),
  ]);
  return { archive, changed, unchanged };
}

/** applyCommand's stdout: the removed paths. */
export function parseRemoved(stdout: Buffer): string[] {
  return stdout.toString('utf8').split('\0').filter((p) => p !== '');
}
