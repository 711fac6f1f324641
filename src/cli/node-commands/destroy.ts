import { destroyNodes } from '../../core/provision/destroy.js';
import { parseTargetList } from '../../core/targets.js';
import { ExitCode } from '../../domain/errors.js';
import { summarise } from '../../ui/host-summary.js';
import { printNote, printResult } from '../../ui/output.js';
import { BaseCommand } from '../base-command.js';
import { targetFlag } from '../node-flags.js';
import { openProvider } from '../open-provider.js';
import { ownershipLabels } from '../project-labels.js';
import { hostResults, type HostResultsJson } from './host-results.js';

/** `fleet destroy` and `cluster destroy`. */
export abstract class DestroyCommand extends BaseCommand<typeof DestroyCommand> {
  static override summary = "Delete the target servers in the cloud (only servers labelled as this project's).";

  static override description = `Asks for confirmation unless --batch. Servers without the managed-by=nix-infra label of this
project are never deleted, whatever their name. A servers.yaml project has nothing to delete:
the command says so and exits 0.`;

  /** The role the command is for; destroy matches servers by project, whatever their role. */
  static role: 'fleet' | 'cluster';

  static override enableJsonFlag = true;

  static override flags = {
    target: targetFlag,
  };

  async run(): Promise<HostResultsJson<{ state: string }> | { ok: true; message: string }> {
    const session = this.openProject();
    const names = parseTargetList(this.flags.target);
    const provider = await openProvider(session);
    const role = (this.ctor as unknown as typeof DestroyCommand).role;
    const result = await destroyNodes(
      { provider, prompter: session.ctx.prompter, reporter: session.reporter },
      { names, labels: () => ownershipLabels(session, this.sshKeyName(session), role) },
    );
    if (result.kind === 'unsupported') {
      if (!this.jsonEnabled()) printResult(result.message);
      return { ok: true, message: result.message };
    }
    if (result.kind === 'cancelled') {
      if (!this.jsonEnabled()) printResult('Nothing deleted.');
      return { ok: true, message: 'cancelled' };
    }
    printNote(summarise(result.outcomes));
    process.exitCode = result.outcomes.every((o) => o.ok) ? ExitCode.ok : ExitCode.failed;
    return hostResults(result.outcomes.map((o) => ({ ...o, value: o.value === undefined ? undefined : { state: o.value } })));
  }
}
