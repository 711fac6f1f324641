import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { JsonlAuditLog } from '../adapters/jsonl-audit-log.js';
import { envValue } from '../config/env.js';
import { recordInControlPlane } from '../core/audit/cluster-audit.js';
import { auditRecord, nodeRecord, type RunIdentity } from '../core/audit/record.js';
import { lockInControlPlane } from '../core/lock/cluster-locks.js';
import { lockNodes } from '../core/lock/node-locks.js';
import type { LeasedKeys } from '../ports/control-plane.js';
import type { AuditRecord } from '../domain/audit.js';
import type { HostOutcome } from '../core/remote/fanout.js';
import type { HostConnector, HostTarget } from '../ports/remote-host.js';
import type { ProjectSession } from './base-command.js';
import { controlNodeNames, openControlPlane, type ControlPlaneSession } from './control-plane-session.js';

/** Exit status after Ctrl-C (128 + SIGINT), as shells report it. */
const INTERRUPTED = 130;

export interface MutationRun {
  /** The connector the run's work uses: it hands out the locked connections. */
  readonly connector: HostConnector;
  /** Audit records written, locks released; returns 130 when Ctrl-C ended the run. */
  finish(outcomes: readonly HostOutcome<unknown>[] | undefined, ending?: 'interrupted' | 'stopped'): Promise<number | undefined>;
}

/** The operator and machine a lock and an audit line name. */
export function runIdentity(session: ProjectSession, selector: readonly string[]): RunIdentity {
  return {
    id: randomBytes(8).toString('hex'),
    who: `${userInfo().username}@${hostname()}`,
    command: `nix-infra ${session.command}`,
    selector,
    started: session.ctx.now(),
  };
}

/**
 * What every command that changes nodes does around its work: the deploy lock on each target
 * before anything changes, released at the end, on failure and on Ctrl-C; one audit line in the
 * project and one record in each node's deploy log.
 */
export interface MutationParams {
  readonly connector: HostConnector;
  readonly targets: readonly HostTarget[];
  readonly selector: readonly string[];
  readonly lockTimeoutSeconds: number;
  readonly concurrency: number;
  /** For the control plane (cluster mode). */
  readonly sshKeyName: string | undefined;
  readonly connectTimeoutSeconds: number;
  readonly acceptHostKey: readonly string[];
}

/**
 * Cluster commands lock in etcd when the project names its control nodes (CTRL_NODES), except
 * the two that set etcd up or restart it. Every operator of a project shares its .env, so all of
 * them lock the same way.
 */
function locksInEtcd(session: ProjectSession): boolean {
  if (!session.command.startsWith('cluster ') || ['cluster init-ctrl', 'cluster update-ctrl'].includes(session.command)) return false;
  return envValue(session.ctx.env, 'CTRL_NODES') !== undefined;
}

export async function startMutation(session: ProjectSession, params: MutationParams): Promise<MutationRun> {
  const run = runIdentity(session, params.selector);
  const nodes = params.targets.map((t) => t.name);
  const owner = { id: run.id, who: run.who, pid: process.pid, command: `${run.command} --target ${JSON.stringify(params.selector.join(' '))}`, started: run.started.toISOString() };
  const timeoutMs = params.lockTimeoutSeconds * 1000;
  let cluster: { session: ControlPlaneSession; keys: LeasedKeys } | undefined;
  if (locksInEtcd(session)) {
    const cp = await openControlPlane(session, {
      ctrlNodes: await controlNodeNames(session, undefined),
      sshKeyName: params.sshKeyName,
      connectTimeoutSeconds: params.connectTimeoutSeconds,
      acceptHostKey: params.acceptHostKey,
    });
    try {
      const keys = await lockInControlPlane({ leases: cp.cp, sleep: (ms) => sleep(ms), now: session.ctx.now }, { nodes, owner, timeoutMs });
      keys.onLost((reason) => session.reporter.emit({ kind: 'warning', message: `the cluster deploy lock was lost (${reason}): another run may start on these nodes` }));
      cluster = { session: cp, keys };
    } catch (err) {
      await cp.close();
      throw err;
    }
  }
  const locks = await lockNodes(
    { connector: params.connector, sleep: (ms) => sleep(ms), now: session.ctx.now },
    { targets: params.targets, owner, timeoutMs, concurrency: params.concurrency, nodeLock: cluster === undefined },
  ).catch(async (err: unknown) => {
    await cluster?.keys.release().catch(() => undefined);
    await cluster?.session.close();
    throw err;
  });
  const audit = new JsonlAuditLog(session.workingDir);
  let ended: Promise<void> | undefined;
  let interrupted = false;
  const end = (outcomes: readonly HostOutcome<unknown>[] | undefined, ending?: 'interrupted' | 'stopped'): Promise<void> =>
    (ended ??= (async () => {
      process.off('SIGINT', onInterrupt);
      const record: AuditRecord = auditRecord(run, nodes, outcomes, session.ctx.now(), ending);
      const warnings = await locks.release(new Map(nodes.map((node) => [node, nodeRecord(record, node)])));
      if (cluster !== undefined) {
        await recordInControlPlane(cluster.session.cp, record).catch((err: Error) => warnings.push(`audit record not written to etcd: ${err.message}`));
        await cluster.keys.release().catch((err: Error) => warnings.push(`cluster deploy lock not released (${err.message}); it expires by itself`));
        await cluster.session.close();
      }
      for (const message of warnings) session.reporter.emit({ kind: 'warning', message });
      await audit.append(record).catch((err: Error) => session.reporter.emit({ kind: 'warning', message: `${audit.file}: audit line not written: ${err.message}` }));
    })());
  // Ctrl-C: give the locks back and close the connections, so the work still running fails
  // fast; a second Ctrl-C kills the process as usual.
  const onInterrupt = (): void => {
    interrupted = true;
    session.reporter.emit({ kind: 'warning', message: 'interrupted: releasing the deploy locks' });
    void end(undefined, 'interrupted').finally(() => {
      process.exitCode = INTERRUPTED;
      void params.connector.closeAll();
    });
  };
  process.once('SIGINT', onInterrupt);
  return {
    connector: locks.connector,
    async finish(outcomes, ending) {
      await end(outcomes, ending);
      return interrupted ? INTERRUPTED : undefined;
    },
  };
}
