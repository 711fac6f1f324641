import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { finishWithStates, type HostResultsJson } from '../../cli/node-commands/host-results.js';
import { targetFlag } from '../../cli/node-flags.js';
import { openProvider } from '../../cli/open-provider.js';
import { ownershipLabels } from '../../cli/project-labels.js';
import { adoptServers } from '../../core/servers/adopt-servers.js';
import { parseTargetList } from '../../core/targets.js';
import { printResult } from '../../ui/output.js';

export default class ServersAdopt extends BaseCommand<typeof ServersAdopt> {
  static override summary = "Label existing Hetzner servers as this project's, so provision reuses them and destroy may delete them.";

  static override description = `For servers the upstream tool or a person created: they carry no nix-infra labels, so
provision and destroy leave them alone. Adopting adds managed-by=nix-infra, nix-infra/project
(this project's id) and nix-infra/role, and keeps the labels the server already has. Asks for
confirmation unless --batch. Servers labelled by another nix-infra project are refused.`;

  static override enableJsonFlag = true;

  static override examples = ['<%= config.bin %> <%= command.id %> --target "node001 node002" --role cluster'];

  static override flags = {
    target: targetFlag,
    role: Flags.string({ summary: 'What the servers are used as: the nix-infra/role label.', options: ['fleet', 'cluster'], required: true }),
  };

  async run(): Promise<HostResultsJson<{ state: string }> | { ok: true; message: string }> {
    const session = this.openProject();
    const provider = await openProvider(session);
    const result = await adoptServers(
      { provider, prompter: session.ctx.prompter },
      { names: parseTargetList(this.flags.target), labels: () => ownershipLabels(session, this.sshKeyName(session), this.flags.role) },
    );
    if (result.kind === 'cancelled') {
      if (!this.jsonEnabled()) printResult('Nothing labelled.');
      return { ok: true, message: 'cancelled' };
    }
    return finishWithStates(result.outcomes);
  }
}
