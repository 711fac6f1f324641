import { Args } from '@oclif/core';
import { runCommand, type CommandOutput } from '../../core/remote/run-command.js';
import { UserError } from '../../domain/errors.js';
import { BaseCommand } from '../base-command.js';
import { connectionFlags, mutatingFlags, targetFlag } from '../node-flags.js';
import { openNodeRun } from '../node-run.js';
import { hostResults, type HostResultsJson } from './host-results.js';
import { nodeRunOptions } from './run-options.js';

/** `fleet cmd` and `cluster cmd`: the operator's shell command on every target. */
export abstract class CmdCommand extends BaseCommand<typeof CmdCommand> {
  static override summary = 'Run a shell command on the target nodes, in parallel.';

  static override description = `The command runs through the remote login shell exactly as written (quote it
locally so your own shell leaves it alone). Output comes back as "<node>: <line>": remote
stdout on stdout, remote stderr on stderr. A node whose command exits non-zero is reported with
the tail of its output; the other nodes carry on. Exit code 1 if any node failed.`;

  static override strict = false;

  static override enableJsonFlag = true;

  static override args = {
    command: Args.string({ description: 'The command, as one quoted word or several words (use -- before words that start with -).' }),
  };

  static override flags = {
    target: targetFlag,
    ...connectionFlags,
    ...mutatingFlags,
  };

  async run(): Promise<HostResultsJson<CommandOutput>> {
    const script = this.rest.join(' ').trim();
    if (script === '') throw new UserError('no command given', { hints: ['e.g. nix-infra fleet cmd --target web1 "uptime"'] });
    const session = this.openProject();
    const run = await openNodeRun(
      session,
      nodeRunOptions(this.flags, { sshKeyName: this.sshKeyName(session), json: this.jsonEnabled(), title: `cmd: ${script}` }),
    );
    const outcomes = await runCommand(run.deps, { targets: run.targets, script, concurrency: run.concurrency }).catch(async (err: unknown) => {
      await run.abort();
      throw err;
    });
    process.exitCode = await run.finish(outcomes);
    return hostResults(outcomes);
  }
}
