import { describe as describeStatus } from '../../core/status/compartments.js';
import { ExitCode } from '../../domain/errors.js';
import { printNote, printResult, renderTable } from '../../ui/output.js';
import { BaseCommand } from '../base-command.js';
import { ctrlNodesOption } from '../control-plane-session.js';
import { connectionFlags, targetFlag } from '../node-flags.js';
import { runStatus, statusRunOptions, type HostStatusView } from '../status-run.js';

export interface StatusJson {
  readonly inSync: boolean;
  readonly hosts: readonly HostStatusView[];
}

/** `fleet status` and `cluster status`: what runs where, and whether it matches this checkout. */
export abstract class StatusCommand extends BaseCommand<typeof StatusCommand> {
  static mode: 'fleet' | 'cluster';

  static override summary = 'Show each node: reachable, NixOS release, drift from this checkout, changes by hand, pending boot, reboot needed, failed units.';

  static override description = `One SSH round trip per node, read-only. Drift: the files this checkout renders now (with the parameters the node's last deploy recorded) against what that deploy wrote. "changed by hand": /run/current-system is not the system our last rebuild activated. Pending boot: the system profile differs from the running system. Reboot needed: the running system's kernel is not the booted one. A node that cannot be reached is shown as unreachable within --connect-timeout, without holding back the others. Exit 0 when every node is in sync, 3 when any is not (drift, failed units, unreachable), 1 on errors. See docs/status.md.`;

  static override enableJsonFlag = true;

  static override flags = {
    target: targetFlag,
    'ctrl-nodes': ctrlNodesOption('Cluster: control nodes, for the overlay addresses the rendering uses (default: CTRL_NODES, else those init-ctrl remembered).'),
    ...connectionFlags,
  };

  async run(): Promise<StatusJson> {
    const mode = (this.ctor as unknown as typeof StatusCommand).mode;
    const session = this.openProject();
    const hosts = await runStatus(session, statusRunOptions(mode, this.flags, this.sshKeyName(session)));
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
  }
}
