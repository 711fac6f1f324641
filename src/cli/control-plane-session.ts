import { Flags } from '@oclif/core';
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
import { chooseControlNodes, CLUSTER_STATE_FILE, type ControlNodes } from '../core/cluster/control-nodes.js';

/** `--ctrl-nodes` (also `--target`, upstream's flag on etcd commands); falls back to CTRL_NODES, then the project's. */
export const ctrlNodesFlag = Flags.string({
  summary: 'Control nodes to reach etcd through, tried in order (default: CTRL_NODES, else those init-ctrl remembered).',
  aliases: ['target'],
  multiple: true,
  multipleNonGreedy: true,
});

/** `--ctrl-nodes` on commands whose --target names other nodes; `summary` says what they are for. */
export function ctrlNodesOption(summary: string) {
  return Flags.string({ summary, multiple: true, multipleNonGreedy: true });
}

/**
 * The control nodes from --ctrl-nodes, CTRL_NODES, the project (init-ctrl remembered them) or
 * upstream's etcdNNN names; undefined when none of them names a node. `servers` is listed from
 * the provider only if the convention has to be tried and the caller has no list.
 */
export function findControlNodes(session: ProjectSession, values: readonly string[] | undefined, servers?: readonly ServerInfo[]): Promise<ControlNodes | undefined> {
  return chooseControlNodes({
    flag: parseTargetList(values ?? []),
    env: parseTargetList([envValue(session.ctx.env, 'CTRL_NODES') ?? '']),
    project: session.workspace,
    serverNames: async () => (servers ?? (await (await openProvider(session)).listServers())).map((s) => s.name),
  });
}

/** findControlNodes, or an error saying every way to name them. */
export async function controlNodeNames(session: ProjectSession, values: readonly string[] | undefined, servers?: readonly ServerInfo[]): Promise<string[]> {
  const found = await findControlNodes(session, values, servers);
  if (found === undefined) {
    throw new UserError('no control nodes given', {
      hints: [
        'pass --ctrl-nodes "etcd001 etcd002 etcd003" or set CTRL_NODES in .env',
        `init-ctrl remembers them in ${CLUSTER_STATE_FILE}; without it, servers named etcd001, etcd002, ... are used`,
      ],
    });
  }
  // A guess from names is said out loud: it is the one source the operator did not write down.
  if (found.source === 'convention') session.reporter.emit({ kind: 'step', message: `control nodes: ${found.names.join(' ')} (the servers named etcdNNN; --ctrl-nodes picks others)` });
  return [...found.names];
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
  options: { ctrlNodes: readonly string[]; sshKeyName: string | undefined; connectTimeoutSeconds: number; acceptHostKey: readonly string[]; refuseFirstContact?: boolean },
  reuse?: { connector: HostConnector; hosts: readonly RemoteHost[]; unreachable?: readonly string[] },
): Promise<ControlPlaneSession> {
  let connector: HostConnector;
  let hosts: RemoteHost[];
  const unreachable: string[] = [];
  if (reuse) {
    connector = reuse.connector;
    hosts = [...reuse.hosts];
    unreachable.push(...(reuse.unreachable ?? []));
  } else {
    const prepared = await prepareConnections(session, {
      targetValues: options.ctrlNodes,
      concurrency: options.ctrlNodes.length,
      connectTimeoutSeconds: options.connectTimeoutSeconds,
      acceptHostKey: options.acceptHostKey,
      sshKeyName: options.sshKeyName,
      refuseFirstContact: options.refuseFirstContact === true,
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
    // Loaded here, not at start-up: etcd3 (grpc, protobufjs) and node-forge are a third of the
    // start-up time of every command that shares this module, and fleet commands never use them.
    const [{ createEtcdControlPlane }, { openTunnels }, { ForgePki }] = await Promise.all([
      import('../adapters/etcd/etcd-control-plane.js'),
      import('../adapters/etcd/tunnels.js'),
      import('../adapters/forge-pki.js'),
    ]);
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
  // Only what the operator gave: the remembered list is what init-ctrl writes, not what it reads.
  const given = parseTargetList(values ?? []);
  const names = given.length > 0 ? given : parseTargetList([envValue(session.ctx.env, 'CTRL_NODES') ?? '']);
  if (names.length === 0) return [...run.targets];
  return resolveTargets(run.servers, names, sshKeyName === undefined ? undefined : session.workspace.resolve(`ssh/${sshKeyName}`));
}
