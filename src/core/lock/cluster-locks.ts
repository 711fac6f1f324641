import { LockHeld } from '../../domain/errors.js';
import type { ControlPlaneLeases, LeasedKeys } from '../../ports/control-plane.js';
import { describeHolder, type HeldLock, type LockOwner } from './owner.js';

/** One key per node, so runs on different nodes of a cluster do not exclude each other. */
export const CLUSTER_LOCK_PREFIX = '/cluster/lock/nodes/';
/** A killed holder's locks vanish this long after its last keep-alive. */
export const CLUSTER_LOCK_TTL_SECONDS = 30;

export interface ClusterLockParams {
  readonly nodes: readonly string[];
  readonly owner: LockOwner;
  readonly timeoutMs: number;
  readonly retryMs?: number;
  readonly ttlSeconds?: number;
}

/**
 * Cluster mode's deploy lock: the nodes' keys under one etcd lease, kept alive while the run
 * lasts, all or nothing. Held by another run: tried again until the timeout, then LockHeld naming
 * each holder and its age (by the holder's start time).
 */
export async function lockInControlPlane(
  deps: { leases: ControlPlaneLeases; sleep: (ms: number) => Promise<void>; now: () => Date },
  params: ClusterLockParams,
): Promise<LeasedKeys> {
  const deadline = deps.now().getTime() + params.timeoutMs;
  const keys = params.nodes.map((node) => `${CLUSTER_LOCK_PREFIX}${node}`);
  for (;;) {
    const answer = await deps.leases.createLeased(keys, JSON.stringify(params.owner), params.ttlSeconds ?? CLUSTER_LOCK_TTL_SECONDS);
    if ('keys' in answer) return answer.keys;
    const remaining = deadline - deps.now().getTime();
    if (remaining <= 0) throw heldError([...answer.held].map(([key, value]) => heldLock(key.slice(CLUSTER_LOCK_PREFIX.length), value, deps.now())), params.timeoutMs);
    await deps.sleep(Math.min(params.retryMs ?? 1000, remaining));
  }
}

export function heldLock(node: string, value: string, now: Date): HeldLock {
  try {
    const owner = JSON.parse(value) as LockOwner;
    const started = Date.parse(owner.started);
    return { node, owner, ...(Number.isFinite(started) ? { ageSeconds: Math.max(0, Math.round((now.getTime() - started) / 1000)) } : {}) };
  } catch {
    return { node };
  }
}

function heldError(held: readonly HeldLock[], timeoutMs: number): LockHeld {
  const [first, ...rest] = held;
  const waited = timeoutMs > 0 ? ` (waited ${Math.round(timeoutMs / 1000)}s)` : '';
  return new LockHeld(`${first?.node ?? '?'}: cluster deploy lock held by ${first === undefined ? '?' : describeHolder(first)}${waited}; nothing was changed`, [
    ...rest.map((lock) => `${lock.node}: held by ${describeHolder(lock)}`),
    'wait for that run, or pass --lock-timeout SECONDS to wait for it',
    `a killed run's lock expires ${CLUSTER_LOCK_TTL_SECONDS}s after it stopped; or: nix-infra lock release --force`,
  ]);
}
