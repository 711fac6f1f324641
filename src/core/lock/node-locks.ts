import { LockHeld, OperationFailed } from '../../domain/errors.js';
import type { ConnectOptions, HostConnector, HostTarget, RemoteHost } from '../../ports/remote-host.js';
import { acquireLock, appendDeployRecord, LOCK_HELD_STATUS, releaseLock } from '../../remote/node-lock.js';
import { forEachLimited } from '../../util/concurrency.js';
import { describeHolder, parseHeldLock, type HeldLock, type LockOwner } from './owner.js';

export interface NodeLockDeps {
  readonly connector: HostConnector;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => Date;
}

export interface NodeLockParams {
  readonly targets: readonly HostTarget[];
  readonly owner: LockOwner;
  /** How long to wait for locks others hold; 0: fail at once. */
  readonly timeoutMs: number;
  readonly concurrency: number;
  /** How often a waiting run tries again. */
  readonly retryMs?: number;
  /**
   * false: connect and keep the deploy logs only, no lock on the node (cluster mode, where the
   * lock is a lease in etcd that expires when its holder dies).
   */
  readonly nodeLock?: boolean;
}

/** The locks of one run, and the connector its work must use while they are held. */
export interface HeldNodeLocks {
  /** Hands out the lock connections; a host that could not be reached fails as it did then. */
  readonly connector: HostConnector;
  /**
   * Writes each node's record (when given) into its deploy log, then releases every lock this
   * run holds. Safe to call twice; returns a warning per node it could not release.
   */
  release(records?: ReadonlyMap<string, string>): Promise<string[]>;
}

type Attempt = { kind: 'locked'; host: RemoteHost } | { kind: 'held'; lock: HeldLock } | { kind: 'failed'; error: Error };

/**
 * Takes the deploy lock on every target before the run changes anything, so two operators (two
 * laptops) never change one node at the same time. All or nothing: when any lock is held by
 * someone else, the ones taken are given back and, until the timeout, the whole set is tried
 * again (two runs each holding half never wait on each other). Then LockHeld names each holder
 * and its age. A host that cannot be reached is not an error here: it fails in the run's own
 * summary, as it would without the lock.
 */
export async function lockNodes(deps: NodeLockDeps, params: NodeLockParams): Promise<HeldNodeLocks> {
  const deadline = deps.now().getTime() + params.timeoutMs;
  const owner = Buffer.from(JSON.stringify(params.owner));
  const hosts = new Map<string, RemoteHost>();
  const failed = new Map<string, Error>();
  for (;;) {
    const attempts = new Map<string, Attempt>();
    await forEachLimited(params.targets, params.concurrency, async (target) => {
      attempts.set(target.name, await attempt(deps.connector, hosts, target, params.nodeLock === false ? undefined : owner));
    });
    const held = [...attempts.values()].flatMap((a) => (a.kind === 'held' ? [a.lock] : []));
    if (held.length === 0) {
      for (const [name, a] of attempts) {
        if (a.kind === 'locked') hosts.set(name, a.host);
        else if (a.kind === 'failed') failed.set(name, a.error);
      }
      return handle(deps.connector, hosts, failed, params.nodeLock === false ? undefined : params.owner.id);
    }
    await releaseAll([...attempts.values()].flatMap((a) => (a.kind === 'locked' ? [a.host] : [])), params.owner.id);
    const remaining = deadline - deps.now().getTime();
    if (remaining <= 0) throw lockHeldError(held, params.timeoutMs);
    await deps.sleep(Math.min(params.retryMs ?? 1000, remaining));
  }
}

/** Connects, then (given an owner record) takes the lock. */
async function attempt(connector: HostConnector, open: Map<string, RemoteHost>, target: HostTarget, owner: Buffer | undefined): Promise<Attempt> {
  let host = open.get(target.name);
  try {
    host ??= await connector.connect(target);
    open.set(target.name, host);
  } catch (err) {
    return { kind: 'failed', error: err as Error };
  }
  if (owner === undefined) return { kind: 'locked', host };
  const result = await host.exec(acquireLock(), { stdin: owner });
  if (result.exitCode === 0) return { kind: 'locked', host };
  if (result.exitCode === LOCK_HELD_STATUS) return { kind: 'held', lock: parseHeldLock(target.name, result.stdout.toString('utf8')) };
  const reason = result.stderr.toString('utf8').trim().split('\n').slice(-1)[0] ?? '';
  return { kind: 'failed', error: new OperationFailed(`${target.name}: cannot take the deploy lock (exit ${result.exitCode ?? result.signal ?? '?'})${reason === '' ? '' : `: ${reason}`}`) };
}

function lockHeldError(held: readonly HeldLock[], timeoutMs: number): LockHeld {
  const [first, ...rest] = held;
  const waited = timeoutMs > 0 ? ` (waited ${Math.round(timeoutMs / 1000)}s)` : '';
  return new LockHeld(`${first?.node ?? '?'}: deploy lock held by ${first === undefined ? '?' : describeHolder(first)}${waited}; nothing was changed`, [
    ...rest.map((lock) => `${lock.node}: held by ${describeHolder(lock)}`),
    'wait for that run, or pass --lock-timeout SECONDS to wait for it',
    `if that run is gone: nix-infra lock status --target ${held.map((l) => l.node).join(',')}, then lock release --force`,
  ]);
}

async function releaseAll(hosts: readonly RemoteHost[], id: string): Promise<string[]> {
  const warnings: string[] = [];
  await Promise.all(
    hosts.map(async (host) => {
      const result = await host.exec(releaseLock(id)).catch((err: Error) => ({ exitCode: null, stderr: Buffer.from(err.message) }));
      if (result.exitCode !== 0) warnings.push(`${host.target.name}: deploy lock not released (${result.stderr.toString('utf8').trim() || 'connection lost'}); it goes away at the next boot, or with lock release --force`);
    }),
  );
  return warnings;
}

function handle(inner: HostConnector, hosts: Map<string, RemoteHost>, failed: Map<string, Error>, id: string | undefined): HeldNodeLocks {
  const unused = new Set(hosts.keys());
  let released = false;
  const connector: HostConnector = {
    async connect(target: HostTarget, options?: ConnectOptions): Promise<RemoteHost> {
      if (released) throw new OperationFailed(`${target.name}: stopped (the run's deploy locks were released)`);
      const error = failed.get(target.name);
      if (error !== undefined) throw error;
      // The first connect gets the lock's connection; reconnects (after a reboot) are new ones.
      const host = hosts.get(target.name);
      if (host !== undefined && unused.delete(target.name) && options === undefined) return host;
      return inner.connect(target, options);
    },
    pinHostKey: (target, key) => inner.pinHostKey(target, key),
    forgetHostKey: (target) => inner.forgetHostKey(target),
    closeAll: () => inner.closeAll(),
  };
  return {
    connector,
    async release(records) {
      if (released) return [];
      released = true;
      const warnings: string[] = [];
      await Promise.all(
        [...hosts.values()].map(async (lockHost) => {
          const name = lockHost.target.name;
          // After a reboot the lock's connection is gone (and so is the lock, with /run): a
          // new connection still writes the record and finds nothing left to release.
          const run = async (command: { argv: string[] }, stdin?: Buffer) => {
            const options = stdin === undefined ? {} : { stdin };
            try {
              return await lockHost.exec(command, options);
            } catch {
              return (await inner.connect(lockHost.target)).exec(command, options);
            }
          };
          const record = records?.get(name);
          if (record !== undefined) {
            const appended = await run(appendDeployRecord(), Buffer.from(record)).catch(() => undefined);
            if (appended?.exitCode !== 0) warnings.push(`${name}: could not append to its deploy log`);
          }
          if (id === undefined) return;
          const result = await run(releaseLock(id)).catch((err: Error) => ({ exitCode: null, stderr: Buffer.from(err.message) }));
          if (result.exitCode !== 0) {
            warnings.push(`${name}: deploy lock not released (${result.stderr.toString('utf8').trim() || 'no answer'}); it goes at the next boot, or with lock release --force`);
          }
        }),
      );
      return warnings;
    },
  };
}
