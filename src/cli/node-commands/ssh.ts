import { Flags } from '@oclif/core';
import { attachTerminal } from '../../ui/interactive-shell.js';
import { BaseCommand } from '../base-command.js';
import { connectionFlags } from '../node-flags.js';
import { withSingleNode } from '../node-run.js';
import { singleNodeOptions } from './run-options.js';

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
    const session = this.openProject();
    const code = await withSingleNode(session, 'ssh', singleNodeOptions(this.flags, this.sshKeyName(session)), (host) =>
      attachTerminal(host, process.env.TERM ?? 'xterm-256color'),
    );
    process.exitCode = code ?? 1;
  }
}
