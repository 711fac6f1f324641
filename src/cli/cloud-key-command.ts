import { Flags } from '@oclif/core';
import { NodeLocalFiles } from '../adapters/node-local-files.js';
import type { CloudKeyResult } from '../core/provision/cloud-keys.js';
import { checkSshKeyName } from '../domain/names.js';
import type { LocalFiles } from '../ports/local-files.js';
import type { ServerProvider } from '../ports/provider.js';
import { printResult } from '../ui/output.js';
import { BaseCommand } from './base-command.js';
import { openProvider } from './open-provider.js';

type CloudKeyAction = (deps: { provider: ServerProvider; local: LocalFiles }, name: string, publicKeyPath: string) => Promise<CloudKeyResult>;

/** `ssh-key add` and `ssh-key remove`: the same inputs, a different core action. */
export abstract class CloudKeyCommand extends BaseCommand<typeof CloudKeyCommand> {
  static override examples = ['<%= config.bin %> <%= command.id %> --name nixinfra'];

  static override flags = {
    name: Flags.string({ summary: 'Key name: ssh/<name>.pub in the project, and the name in the cloud.', required: true }),
  };

  protected abstract readonly action: CloudKeyAction;

  async run(): Promise<void> {
    const session = this.openProject();
    checkSshKeyName(this.flags.name);
    const provider = await openProvider(session);
    const result = await this.action({ provider, local: new NodeLocalFiles(session.workingDir) }, this.flags.name, session.workspace.resolve(`ssh/${this.flags.name}.pub`));
    printResult(result.message);
  }
}
