import { setTimeout as sleep } from 'node:timers/promises';
import { Flags } from '@oclif/core';
import { ForgePki } from '../../adapters/forge-pki.js';
import { NodeLocalFiles } from '../../adapters/node-local-files.js';
import { BaseCommand } from '../../cli/base-command.js';
import { controlPlaneMembers, ctrlNodesOption, openControlPlane } from '../../cli/control-plane-session.js';
import { hostResults, type HostResultsJson } from '../../cli/node-commands/host-results.js';
import { nodeRunOptions } from '../../cli/node-commands/run-options.js';
import { connectionFlags, mutatingFlags, targetFlag } from '../../cli/node-flags.js';
import { openNodeRun } from '../../cli/node-run.js';
import { CLUSTER_STATE_FILE, rememberControlNodes } from '../../core/cluster/control-nodes.js';
import { initControlNodes, type ControlNodeResult } from '../../core/cluster/init-ctrl.js';
import { seedControlPlane, waitForLeader } from '../../core/cluster/seed-control-plane.js';
import { ExitCode } from '../../domain/errors.js';
import { printResult } from '../../ui/output.js';
import { wholeNumberFlag } from '../../cli/numeric-flag.js';

export default class ClusterInitCtrl extends BaseCommand<typeof ClusterInitCtrl> {
  static override summary = 'Set up the etcd control plane on the target nodes and seed the service mesh.';

  static override description = `Issues the certificates (client/server and peer per control node, and the operator's own
client certificate), uploads them to /root/certs (folder 0700, files 0400), uploads
configuration.nix, flake.nix, control_node.nix (etcdCluster = the targets, etcdClusterToken =
--cluster-uuid) and modules/, and rebuilds. Then the CLI reaches etcd through SSH tunnels with
the operator certificate, waits for a leader, and seeds flannel's network config and the
/cluster/ layout. Running it again changes only what differs. The control nodes are remembered in
.nix-infra/cluster.json, so later commands need neither --ctrl-nodes nor CTRL_NODES.`;

  static override aliases = ['init-ctrl'];

  static override examples = [
    '<%= config.bin %> <%= command.id %> --target "etcd001 etcd002 etcd003" --nixos-version 25.05 --cluster-uuid 5e7a1d3c-0000-4c1b-9a7e-6f1d2c3b4a50 --batch',
  ];

  static override enableJsonFlag = true;

  static override flags = {
    target: targetFlag,
    'nixos-version': Flags.string({ summary: 'NixOS release of the nodes, e.g. 25.05.', required: true }),
    'cluster-uuid': Flags.string({ summary: 'etcd cluster token; keep it for the life of the cluster.', required: true }),
    'overlay-network': Flags.string({ summary: "flannel's overlay network (each node gets a /24 of it).", default: '10.0.0.0/8' }),
    'health-timeout': wholeNumberFlag({ summary: 'Seconds to wait for etcd to elect a leader after the rebuild.', default: 180, min: 5, max: 3600 }),
    'ctrl-nodes': ctrlNodesOption('Every control node, when --target sets up only some (default: CTRL_NODES, else the targets).'),
    ...connectionFlags,
    ...mutatingFlags,
  };

  async run(): Promise<HostResultsJson<ControlNodeResult> & { seeded?: { key: string; outcome: string }[] }> {
    const session = this.openProject();
    const sshKeyName = this.sshKeyName(session);
    const run = await openNodeRun(session, nodeRunOptions(this.flags, { sshKeyName, json: this.jsonEnabled(), title: 'init-ctrl' }));
    const members = controlPlaneMembers(session, run, this.flags['ctrl-nodes'], this.sshKeyName(session));
    const outcomes = await initControlNodes(
      { ...run.deps, ctx: session.ctx, project: session.workspace, pki: new ForgePki(), local: new NodeLocalFiles(session.workingDir) },
      { targets: run.targets, members, nixosVersion: this.flags['nixos-version'], clusterUuid: this.flags['cluster-uuid'], concurrency: run.concurrency },
    ).catch(async (err: unknown) => {
      await run.abort();
      throw err;
    });
    const exit = await run.finish(outcomes);
    if (exit !== ExitCode.ok) {
      process.exitCode = exit;
      return hostResults(outcomes);
    }
    // The later commands (deploy-apps, action, port-forward, registry, etcd) find them here.
    await rememberControlNodes(session.workspace, members.map((t) => t.name));
    session.reporter.emit({ kind: 'step', message: `control nodes ${members.map((t) => t.name).join(' ')} remembered in ${CLUSTER_STATE_FILE}` });
    const cp = await openControlPlane(session, {
      // Health is the whole cluster's: ask every member, not only the ones set up now.
      ctrlNodes: members.map((t) => t.name),
      sshKeyName,
      connectTimeoutSeconds: this.flags['connect-timeout'],
      acceptHostKey: this.flags['accept-host-key'] ?? [],
    });
    try {
      const health = await waitForLeader(cp.cp, { now: session.ctx.now, sleep: (ms) => sleep(ms) }, this.flags['health-timeout'] * 1000);
      session.reporter.emit({ kind: 'step', message: `etcd ${health.version}: ${health.members.length} members, leader elected (answered by ${health.answeredBy})` });
      const seeded = await seedControlPlane(cp.cp, { network: { network: this.flags['overlay-network'] }, clusterUuid: this.flags['cluster-uuid'] });
      if (!this.jsonEnabled()) for (const s of seeded) printResult(`${s.key}: ${s.outcome}`);
      return { ...hostResults(outcomes), seeded: [...seeded] };
    } finally {
      await cp.close();
    }
  }
}
