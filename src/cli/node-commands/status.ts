import path from 'node:path';
import { FsSecretStore } from '../../adapters/secret-store/fs-secret-store.js';
import { NodeLocalFiles } from '../../adapters/node-local-files.js';
import { envValue } from '../../config/env.js';
import type { NodeAddresses } from '../../core/deploy/placeholders.js';
import { describe as describeStatus, isInSync, type HostStatus } from '../../core/status/compartments.js';
import { nodeStatus } from '../../core/status/node-status.js';
import { SecretValue } from '../../domain/secret-value.js';
import { ExitCode } from '../../domain/errors.js';
import { printNote, printResult, renderTable } from '../../ui/output.js';
import { BaseCommand, type ProjectSession } from '../base-command.js';
import { clusterNodeMap } from '../cluster-node-map.js';
import { controlNodeNames, ctrlNodesOption, openControlPlane } from '../control-plane-session.js';
import { connectionFlags, targetFlag } from '../node-flags.js';
import { prepareConnections } from '../node-run.js';

export interface StatusJson {
  readonly inSync: boolean;
  readonly hosts: readonly (HostStatus & { inSync: boolean })[];
}

const TRUSTED_KEYS_PREFIX = 'nix-store.trusted-public-keys';

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

/** `fleet status` and `cluster status`: what runs where, and whether it matches this checkout. */
export abstract class StatusCommand extends BaseCommand<typeof StatusCommand> {
  static mode: 'fleet' | 'cluster';

  static override summary = 'Show each node: reachable, NixOS release, drift from this checkout, changes by hand, pending boot, reboot needed, failed units.';

  static override description = `One SSH round trip per node, read-only. Drift: the files this checkout renders now (with the parameters the node's last deploy recorded) against what that deploy wrote. "changed by hand": /run/current-system is not the system our last rebuild activated. Pending boot: the system profile differs from the running system. Reboot needed: the running system's kernel is not the booted one. A node that cannot be reached is shown as unreachable within --connect-timeout, without holding back the others. Exit 0 when every node is in sync, 3 when any is not (drift, failed units, unreachable), 1 on errors.`;

  static override enableJsonFlag = true;

  static override flags = {
    target: targetFlag,
    'ctrl-nodes': ctrlNodesOption('Cluster: control nodes, for the overlay addresses the rendering uses (default: CTRL_NODES).'),
    ...connectionFlags,
  };

  async run(): Promise<StatusJson> {
    const mode = (this.ctor as unknown as typeof StatusCommand).mode;
    const session = this.openProject();
    const sshKeyName = this.sshKeyName(session);
    const options = { targetValues: this.flags.target, concurrency: this.flags.concurrency, connectTimeoutSeconds: this.flags['connect-timeout'], acceptHostKey: this.flags['accept-host-key'] ?? [], sshKeyName };
    const { connector, targets, servers } = await prepareConnections(session, options);
    let nodes = new Map<string, NodeAddresses>(servers.map((s) => [s.name, { ipv4: s.address }]));
    let etcdCluster: string | undefined;
    try {
      if (mode === 'cluster') {
        const ctrlNodes = await controlNodeNames(session, this.flags['ctrl-nodes'], servers);
        const cp = await openControlPlane(session, { ctrlNodes, sshKeyName, connectTimeoutSeconds: options.connectTimeoutSeconds, acceptHostKey: options.acceptHostKey });
        try {
          ({ nodes, etcdCluster } = await clusterNodeMap(session, servers, cp.cp, { ctrlNodes, sshKeyName }));
        } finally {
          await cp.close();
        }
      }
      const statuses = await nodeStatus(
        { connector, reporter: session.reporter, now: session.ctx.now, project: session.workspace, local: new NodeLocalFiles(session.workingDir) },
        { mode, targets, nodes, ...(etcdCluster === undefined ? {} : { etcdCluster }), trustedPublicKeys: await trustedKeys(session), concurrency: this.flags.concurrency },
      );
      const hosts = statuses.map((s) => ({ ...s, inSync: isInSync(s) }));
      const inSync = hosts.every((h) => h.inSync);
      if (!this.jsonEnabled()) {
        const rows = hosts.map((h) => {
          if (!h.reachable) return [h.host, 'unreachable', '-', '-', '-', '-', h.error ?? ''];
          const d = describeStatus(h);
          return [h.host, h.inSync ? 'in sync' : 'attention', h.nixosVersion || '-', d.drift, d.system, d.boot, d.units];
        });
        printResult(renderTable(['NODE', 'STATE', 'NIXOS', 'DRIFT', 'SYSTEM', 'BOOT', 'UNITS'], rows));
        const attention = hosts.filter((h) => !h.inSync).length;
        printNote(attention === 0 ? `${hosts.length} in sync` : `${hosts.length - attention} in sync, ${attention} need attention`);
      }
      process.exitCode = inSync ? ExitCode.ok : ExitCode.notInSync;
      return { inSync, hosts };
    } finally {
      await connector.closeAll();
    }
  }
}
