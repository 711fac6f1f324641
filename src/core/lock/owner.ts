/** Who holds a deploy lock: enough for another operator to find them, never a secret. */
export interface LockOwner {
  /** Random; a release removes the lock only while it still carries this id. */
  readonly id: string;
  /** `user@host` of the operator's machine. */
  readonly who: string;
  readonly pid: number;
  /** `nix-infra <command>` plus the selector: no other argument (one could be a secret). */
  readonly command: string;
  /** ISO time the lock was taken, by the operator's clock. */
  readonly started: string;
}

/** A lock someone else holds, as read from the node. */
export interface HeldLock {
  readonly node: string;
  readonly owner?: LockOwner;
  /** Seconds since the lock was taken, by the node's clock. */
  readonly ageSeconds?: number;
}

/** Parses what the acquire and status scripts print for a held lock: age line, owner line. */
export function parseHeldLock(node: string, stdout: string): HeldLock {
  const [ageLine, ...rest] = stdout.trim().split('\n');
  const age = Number(ageLine);
  let owner: LockOwner | undefined;
  try {
    const parsed = JSON.parse(rest.join('\n')) as Partial<LockOwner>;
    if (typeof parsed.id === 'string' && typeof parsed.who === 'string') owner = parsed as LockOwner;
  } catch {
    // Being written right now, or damaged: the lock is still held, its owner unknown.
  }
  return { node, ...(owner === undefined ? {} : { owner }), ...(Number.isFinite(age) && ageLine !== '' ? { ageSeconds: age } : {}) };
}

export function describeHolder(lock: HeldLock): string {
  const who = lock.owner === undefined ? 'an unknown owner (no readable owner record)' : `${lock.owner.who} (pid ${lock.owner.pid}, ${lock.owner.command})`;
  const age = lock.ageSeconds === undefined ? '' : ` for ${formatAge(lock.ageSeconds)}`;
  return `${who}${age}`;
}

export function formatAge(seconds: number): string {
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  return `${Math.floor(seconds / 3600)}h${Math.floor((seconds % 3600) / 60)}m`;
}
