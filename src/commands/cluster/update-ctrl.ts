import { Flags } from '@oclif/core';
import { ForgePki } from '../../adapters/forge-pki.js';
import { NodeLocalFiles } from '../../adapters/node-local-files.js';
import { BaseCommand } from '../../cli/base-command.js';
import { controlPlaneMembers, ctrlNodesOption } from '../../cli/control-plane-session.js';
import { hostResults, type HostResultsJson } from '../../cli/node-commands/host-results.js';
import { nodeRunOptions } from '../../cli/node-commands/run-options.js';
import { connectionFlags, mutatingFlags, targetFlag } from '../../cli/node-flags.js';
import { openNodeRun } from '../../cli/node-run.js';
import { initControlNodes, type ControlNodeResult } from '../../core/cluster/init-ctrl.js';

export default class ClusterUpdateCtrl extends BaseCommand<typeof ClusterUpdateCtrl> {
  static override summary = "Upload the control nodes' configuration again; rebuild with --rebuild.";
  static override description = `The same files as init-ctrl (configuration.nix, flake.nix, control_node.nix, modules/), without
certificates or seeding. Keep --cluster-uuid as it was: it is the etcd cluster token.`;
  static override examples = ['<%= config.bin %> <%= command.id %> --target "etcd001 etcd002 etcd003" --nixos-version 25.05 --cluster-uuid <uuid> --rebuild'];
  static override enableJsonFlag = true;
  static override flags = {
    target: targetFlag,
    'nixos-version': Flags.string({ summary: 'NixOS release of the nodes, e.g. 25.05.', required: true }),
    'cluster-uuid': Flags.string({ summary: 'The etcd cluster token given to init-ctrl.', required: true }),
    rebuild: Flags.boolean({ summary: 'Rebuild after uploading.', default: false }),
    'ctrl-nodes': ctrlNodesOption('Every control node, when --target sets up only some (default: CTRL_NODES, else the targets).'),
    ...connectionFlags,
    ...mutatingFlags,
  };

  async run(): Promise<HostResultsJson<ControlNodeResult>> {
    const session = this.openProject();
    const run = await openNodeRun(session, nodeRunOptions(this.flags, { sshKeyName: this.sshKeyName(session), json: this.jsonEnabled(), title: 'update-ctrl' }));
    const outcomes = await initControlNodes(
      { ...run.deps, ctx: session.ctx, project: session.workspace, pki: new ForgePki(), local: new NodeLocalFiles(session.workingDir) },
      {
        targets: run.targets,
        members: controlPlaneMembers(session, run, this.flags['ctrl-nodes'], this.sshKeyName(session)),
        nixosVersion: this.flags['nixos-version'],
        clusterUuid: this.flags['cluster-uuid'],
        concurrency: run.concurrency,
        withCertificates: false,
        rebuild: this.flags.rebuild,
      },
    ).catch(async (err: unknown) => {
      await run.abort();
      throw err;
    });
    process.exitCode = await run.finish(outcomes);
    return hostResults(outcomes);
  }
}
