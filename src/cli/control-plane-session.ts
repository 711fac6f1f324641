import { Flags } from '@oclif/core';
import { createEtcdControlPlane } from '../adapters/etcd/etcd-control-plane.js';
import { openTunnels } from '../adapters/etcd/tunnels.js';
import { ForgePki } from '../adapters/forge-pki.js';
import { envValue } from '../config/env.js';
import { readOperatorCredentials } from '../core/pki/operator-cert.js';
import { parseTargetList, resolveTargets } from '../core/targets.js';
import type { ServerInfo } from '../ports/provider.js';
import { OperationFailed, UserError } from '../domain/errors.js';
import type { ControlPlane, ControlPlaneLeases } from '../ports/control-plane.js';
import type { HostConnector, HostTarget, RemoteHost } from '../ports/remote-host.js';
import type { ProjectSession } from './base-command.js';
import { prepareConnections } from './node-run.js';
import { openProvider } from './open-provider.js';
import { lookupOverlayAddresses, requireOverlayAddress } from '../core/control-plane/overlay.js';

/** `--ctrl-nodes` (also `--target`, upstream's flag on etcd commands); falls back to CTRL_NODES. */
export const ctrlNodesFlag = Flags.string({
  summary: 'Control nodes to reach etcd through, tried in order (default: CTRL_NODES).',
  aliases: ['target'],
  multiple: true,
  multipleNonGreedy: true,
});

/** `--ctrl-nodes` on commands whose --target names other nodes; `summary` says what they are for. */
export function ctrlNodesOption(summary: string) {
  return Flags.string({ summary, multiple: true, multipleNonGreedy: true });
}

export function controlNodeNames(session: ProjectSession, values: readonly string[] | undefined): string[] {
  const names = parseTargetList(values ?? []);
  if (names.length > 0) return names;
  const fromEnv = parseTargetList([envValue(session.ctx.env, 'CTRL_NODES') ?? '']);
  if (fromEnv.length > 0) return fromEnv;
  throw new UserError('no control nodes given', { hints: ['pass --ctrl-nodes "etcd001 etcd002 etcd003" or set CTRL_NODES in .env'] });
}

export interface ControlPlaneSession {
  readonly cp: ControlPlane & ControlPlaneLeases;
  /** The control nodes that could be reached, in the given order. */
  readonly reached: readonly string[];
  close(): Promise<void>;
}

/**
 * etcd through SSH tunnels to the control nodes' 127.0.0.1:2379, with the operator's client
 * certificate. Every control node is tried; those that cannot be reached are left out (the
 * client fails over between the rest), and only when none can be reached is it an error.
 */
export async function openControlPlane(
  session: ProjectSession,
  options: { ctrlNodes: readonly string[]; sshKeyName: string | undefined; connectTimeoutSeconds: number; acceptHostKey: readonly string[] },
  reuse?: { connector: HostConnector; hosts: readonly RemoteHost[] },
): Promise<ControlPlaneSession> {
  let connector: HostConnector;
  let hosts: RemoteHost[];
  const unreachable: string[] = [];
  if (reuse) {
    connector = reuse.connector;
    hosts = [...reuse.hosts];
  } else {
    const prepared = await prepareConnections(session, {
      targetValues: options.ctrlNodes,
      concurrency: options.ctrlNodes.length,
      connectTimeoutSeconds: options.connectTimeoutSeconds,
      acceptHostKey: options.acceptHostKey,
      sshKeyName: options.sshKeyName,
    });
    connector = prepared.connector;
    const attempts = await Promise.allSettled(prepared.targets.map((target: HostTarget) => connector.connect(target)));
    hosts = [];
    attempts.forEach((attempt, index) => {
      if (attempt.status === 'fulfilled') hosts.push(attempt.value);
      else unreachable.push(`${prepared.targets[index]?.name}: ${(attempt.reason as Error).message}`);
    });
  }
  const closeConnections = async (): Promise<void> => {
    if (!reuse) await connector.closeAll();
  };
  if (hosts.length === 0) {
    await closeConnections();
    throw new OperationFailed('no control node could be reached over SSH', unreachable);
  }
  for (const line of unreachable) session.reporter.emit({ kind: 'warning', message: `skipping ${line}` });
  try {
    const credentials = await readOperatorCredentials({ workspace: session.workspace, pki: new ForgePki() });
    const tunnels = await openTunnels(hosts);
    const cp = createEtcdControlPlane({
      endpoints: tunnels.endpoints,
      tls: { caChain: credentials.caChainPem, clientCert: credentials.certPem, clientKey: credentials.key },
    });
    return {
      cp,
      reached: hosts.map((h) => h.target.name),
      async close() {
        await cp.close();
        await tunnels.close();
        await closeConnections();
      },
    };
  } catch (err) {
    await closeConnections();
    throw err;
  }
}

/** One node's overlay IP, read from flannel's lease through the control nodes. */
export async function overlayIpOf(
  session: ProjectSession,
  node: string,
  options: { ctrlNodes: readonly string[]; sshKeyName: string | undefined; connectTimeoutSeconds: number; acceptHostKey: readonly string[] },
): Promise<string> {
  const servers = await (await openProvider(session)).listServers();
  const cp = await openControlPlane(session, options);
  try {
    const nodes = servers.flatMap((s) => (s.address === undefined ? [] : [{ name: s.name, ipv4: s.address }]));
    return requireOverlayAddress(await lookupOverlayAddresses(cp.cp, nodes), node).overlayIp;
  } finally {
    await cp.close();
  }
}

/**
 * The whole etcd member list for init-ctrl / update-ctrl: --ctrl-nodes or CTRL_NODES when given,
 * else the targets themselves (upstream's form: every control node is a target).
 */
export function controlPlaneMembers(
  session: ProjectSession,
  run: { readonly servers: readonly ServerInfo[]; readonly targets: readonly HostTarget[] },
  values: readonly string[] | undefined,
  sshKeyName: string | undefined,
): HostTarget[] {
  const given = (values !== undefined && values.length > 0) || envValue(session.ctx.env, 'CTRL_NODES') !== undefined;
  if (!given) return [...run.targets];
  return resolveTargets(run.servers, controlNodeNames(session, values), sshKeyName === undefined ? undefined : session.workspace.resolve(`ssh/${sshKeyName}`));
}
