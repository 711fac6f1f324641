/**
 * The deploy lock on a node, and its record of what was done to it, as argv. The scripts are
 * constant; the only variable data (the owner record, the log line) arrives on stdin, so
 * nothing an operator typed is ever interpreted by the remote shell.
 */

/** One lock per node: everything that changes the node takes it. /run empties at boot. */
export const NODE_LOCK_DIR = '/run/nix-infra/lock/node';
export const DEPLOY_LOG = '/var/lib/nix-infra/deploys.jsonl';
/** Lines kept in DEPLOY_LOG: enough history for an operator, bounded disk. */
export const DEPLOY_LOG_LINES = 1000;

/** Exit status of the acquire script when someone else holds the lock (EX_TEMPFAIL). */
export const LOCK_HELD_STATUS = 75;
/** Exit status of the status script when no lock is held. */
export const NO_LOCK_STATUS = 3;

const sh = (script: string, ...args: string[]): { argv: string[] } => ({ argv: ['sh', '-c', script, 'nix-infra-lock', ...args] });

// mkdir is atomic: of two operators, exactly one creates the directory. The owner record is
// written to a temporary name and renamed, so a reader sees either none or a whole one.
// Held: prints the lock's age in seconds (by the node's clock), then the owner record.
const ACQUIRE = [
  'owner=$(cat)',
  'mkdir -p "${1%/*}" || exit 1',
  'if mkdir -m 0700 "$1" 2>/dev/null; then',
  '  printf "%s\\n" "$owner" > "$1/owner.json.tmp" && mv "$1/owner.json.tmp" "$1/owner.json" && exit 0',
  '  rm -rf "$1"; exit 1',
  'fi',
  'echo $(( $(date +%s) - $(stat -c %Y "$1" 2>/dev/null || date +%s) ))',
  'cat "$1/owner.json" 2>/dev/null',
  `exit ${LOCK_HELD_STATUS}`,
].join('\n');

/** Takes the lock; the owner record (one JSON line) goes on stdin. */
export function acquireLock(): { argv: string[] } {
  return sh(ACQUIRE, NODE_LOCK_DIR);
}

// Removes the lock only when it is still ours (its id), so a forced release and a new owner in
// between are never undone by a late release of the old run.
const RELEASE = ['[ -d "$1" ] || exit 0', 'grep -qF "\\"id\\":\\"$2\\"" "$1/owner.json" 2>/dev/null || exit 0', 'rm -rf "$1"'].join('\n');

export function releaseLock(id: string): { argv: string[] } {
  return sh(RELEASE, NODE_LOCK_DIR, id);
}

/** Prints the age and owner like ACQUIRE does when held; exit NO_LOCK_STATUS when free. */
const STATUS = [`[ -d "$1" ] || exit ${NO_LOCK_STATUS}`, 'echo $(( $(date +%s) - $(stat -c %Y "$1" 2>/dev/null || date +%s) ))', 'cat "$1/owner.json" 2>/dev/null', 'exit 0'].join('\n');

export function lockStatus(): { argv: string[] } {
  return sh(STATUS, NODE_LOCK_DIR);
}

/** Removes the lock whoever holds it (`lock release --force`). */
export function breakLock(): { argv: string[] } {
  return sh('rm -rf "$1"', NODE_LOCK_DIR);
}

// Appends stdin (one JSON line) and keeps the last DEPLOY_LOG_LINES, via temp + rename.
const APPEND = [
  'line=$(cat)',
  'mkdir -p -m 0700 "${1%/*}" || exit 1',
  '{ tail -n "$2" "$1" 2>/dev/null; printf "%s\\n" "$line"; } > "$1.tmp" && chmod 0600 "$1.tmp" && mv "$1.tmp" "$1"',
].join('\n');

export function appendDeployRecord(): { argv: string[] } {
  return sh(APPEND, DEPLOY_LOG, String(DEPLOY_LOG_LINES - 1));
}
