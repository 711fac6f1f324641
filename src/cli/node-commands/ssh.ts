import { Flags } from '@oclif/core';
import { parseTargetList } from '../../core/targets.js';
import { UserError } from '../../domain/errors.js';
import { attachTerminal } from '../../ui/interactive-shell.js';
import { BaseCommand } from '../base-command.js';
import { connectionFlags } from '../node-flags.js';
import { prepareConnections } from '../node-run.js';

/** `fleet ssh` and `cluster ssh`. */
export abstract class SshCommand extends BaseCommand<typeof SshCommand> {
  static override summary = 'Open an interactive shell on one node.';

  static override description = `Uses the project's key and pinned host keys (ssh/known_hosts), like every other command.
The remote terminal follows the size of your window. The exit code is the remote shell's.`;

  static override flags = {
    target: Flags.string({ summary: 'The node.', required: true }),
    ...connectionFlags,
  };

  async run(): Promise<void> {
    const names = parseTargetList([this.flags.target]);
    if (names.length !== 1) throw new UserError('ssh takes exactly one --target');
    const session = this.openProject();
    const { connector, targets } = await prepareConnections(session, {
      targetValues: names,
      concurrency: 1,
      connectTimeoutSeconds: this.flags['connect-timeout'],
      acceptHostKey: this.flags['accept-host-key'] ?? [],
      sshKeyName: this.sshKeyName(session),
    });
    try {
      const host = await connector.connect(targets[0] as (typeof targets)[number]);
      const code = await attachTerminal(host, process.env.TERM ?? 'xterm-256color');
      process.exitCode = code ?? 1;
    } finally {
      await connector.closeAll();
    }
  }
}
