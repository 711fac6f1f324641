import path from 'node:path';
import { FsSecretStore } from '../adapters/secret-store/fs-secret-store.js';
import { NodeLocalFiles } from '../adapters/node-local-files.js';
import { envValue } from '../config/env.js';
import type { NodeAddresses } from '../core/deploy/placeholders.js';
import { isInSync, type HostStatusView } from '../core/status/compartments.js';

export type { HostStatusView };

/** StatusRunOptions from the flags `status`, `dashboard` and `mcp` share. */
export function statusRunOptions(
  mode: 'fleet' | 'cluster',
  flags: { target: string[]; 'ctrl-nodes'?: string[] | undefined; concurrency: number; 'connect-timeout': number; 'accept-host-key'?: string[] | undefined },
  sshKeyName: string | undefined,
): StatusRunOptions {
  return {
    mode,
    targetValues: flags.target,
    ctrlNodes: flags['ctrl-nodes'],
    concurrency: flags.concurrency,
    connectTimeoutSeconds: flags['connect-timeout'],
    acceptHostKey: flags['accept-host-key'] ?? [],
    sshKeyName,
  };
}
import { TRUSTED_KEYS_PREFIX } from '../core/deploy/deploy-nodes.js';
import { nodeStatus } from '../core/status/node-status.js';
import { SecretValue } from '../domain/secret-value.js';
import type { ProjectSession } from './base-command.js';
import { clusterNodeMap } from './cluster-node-map.js';
import { controlNodeNames, openControlPlane } from './control-plane-session.js';
import { prepareConnections } from './node-run.js';

export interface StatusRunOptions {
  readonly mode: 'fleet' | 'cluster';
  readonly targetValues: readonly string[];
  readonly ctrlNodes: readonly string[] | undefined;
  readonly concurrency: number;
  readonly connectTimeoutSeconds: number;
  readonly acceptHostKey: readonly string[];
  readonly sshKeyName: string | undefined;
  readonly refuseFirstContact?: boolean;
}




/**
 * The keys the node file renders for `[%%nix-store.trusted-public-keys%%]`: needed to repeat
 * the rendering. Read only with SECRETS_PASS at hand (status never prompts); undefined without.
 */
async function trustedKeys(session: ProjectSession): Promise<readonly string[] | undefined> {
  const store = new FsSecretStore(path.join(session.workingDir, 'secrets'));
  const names = (await store.list()).map((e) => e.name).filter((n) => n.startsWith(TRUSTED_KEYS_PREFIX));
  if (names.length === 0) return [];
  const pass = envValue(session.ctx.env, 'SECRETS_PASS');
  if (pass === undefined) return undefined;
  const password = new SecretValue(pass, 'SECRETS_PASS');
  const keys: string[] = [];
  for (const name of names) keys.push((await store.read(name, password)).reveal().toString('utf8').trim());
  return keys;
}

/** One status pass over the selected nodes: what `status` prints and the dashboard polls. */
export async function runStatus(session: ProjectSession, options: StatusRunOptions): Promise<HostStatusView[]> {
  const { connector, targets, servers } = await prepareConnections(session, options);
  let nodes = new Map<string, NodeAddresses>(servers.map((s) => [s.name, { ipv4: s.address }]));
  let etcdCluster: string | undefined;
  try {
    if (options.mode === 'cluster') {
      const ctrlNodes = await controlNodeNames(session, options.ctrlNodes, servers);
      const cp = await openControlPlane(session, {
        ctrlNodes,
        sshKeyName: options.sshKeyName,
        connectTimeoutSeconds: options.connectTimeoutSeconds,
        acceptHostKey: options.acceptHostKey,
        refuseFirstContact: options.refuseFirstContact === true,
      });
      try {
        ({ nodes, etcdCluster } = await clusterNodeMap(session, servers, cp.cp, { ctrlNodes, sshKeyName: options.sshKeyName }));
      } finally {
        await cp.close();
      }
    }
    const statuses = await nodeStatus(
      { connector, reporter: session.reporter, now: session.ctx.now, project: session.workspace, local: new NodeLocalFiles(session.workingDir) },
      { mode: options.mode, targets, nodes, ...(etcdCluster === undefined ? {} : { etcdCluster }), trustedPublicKeys: await trustedKeys(session), concurrency: options.concurrency },
    );
    return statuses.map((s) => ({ ...s, inSync: isInSync(s) }));
  } finally {
    await connector.closeAll();
  }
}
