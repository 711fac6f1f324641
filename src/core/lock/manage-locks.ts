import { OperationFailed } from '../../domain/errors.js';
import type { HostTarget } from '../../ports/remote-host.js';
import { breakLock, lockStatus, NO_LOCK_STATUS } from '../../remote/node-lock.js';
import { forEachHost, type FanoutDeps, type HostOutcome } from '../remote/fanout.js';
import { describeHolder, parseHeldLock, type HeldLock } from './owner.js';

export interface LockState {
  readonly locked: boolean;
  readonly lock?: HeldLock;
}

/** `lock status`: who holds each target's deploy lock, read only. */
export function readLocks(deps: FanoutDeps, params: { targets: readonly HostTarget[]; concurrency: number }): Promise<HostOutcome<LockState>[]> {
  return forEachHost(deps, params.targets, params.concurrency, async (host) => {
    const result = await host.exec(lockStatus());
    if (result.exitCode === NO_LOCK_STATUS) return { locked: false };
    if (result.exitCode !== 0) throw new OperationFailed(`cannot read the deploy lock (exit ${result.exitCode ?? '?'})`);
    const lock = parseHeldLock(host.target.name, result.stdout.toString('utf8'));
    deps.reporter.emit({ kind: 'step', host: host.target.name, message: `locked by ${describeHolder(lock)}` });
    return { locked: true, lock };
  });
}

export interface ReleaseParams {
  readonly targets: readonly HostTarget[];
  readonly concurrency: number;
  /** Break any lock; without it only locks `isStale` says are dead are removed. */
  readonly force: boolean;
  /** Whether a lock's owner is known to be gone (a process of this machine that no longer runs). */
  readonly isStale: (lock: HeldLock) => boolean;
}

/**
 * `lock release`: removes stale locks, or with `force` any lock. A live owner's lock is refused
 * without force, naming the owner, so a colleague's running deploy is not broken by accident.
 */
export function releaseLocks(deps: FanoutDeps, params: ReleaseParams): Promise<HostOutcome<LockState & { released: boolean }>[]> {
  return forEachHost(deps, params.targets, params.concurrency, async (host) => {
    const status = await host.exec(lockStatus());
    if (status.exitCode === NO_LOCK_STATUS) return { locked: false, released: false };
    const lock = parseHeldLock(host.target.name, status.stdout.toString('utf8'));
    if (!params.force && !params.isStale(lock)) {
      throw new OperationFailed(`held by ${describeHolder(lock)}, which may still be running; not released`, [
        'pass --force if you know that run is gone (its machine crashed, or it was killed)',
      ]);
    }
    const result = await host.exec(breakLock());
    if (result.exitCode !== 0) throw new OperationFailed(`cannot remove the deploy lock (exit ${result.exitCode ?? '?'})`);
    deps.reporter.emit({ kind: 'step', host: host.target.name, message: `released the lock of ${describeHolder(lock)}` });
    return { locked: false, released: true, lock };
  });
}
