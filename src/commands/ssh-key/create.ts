import { Flags } from '@oclif/core';
import { Ssh2KeyFactory } from '../../adapters/ssh2-keygen.js';
import { BaseCommand } from '../../cli/base-command.js';
import { createSshKey, sshKeyPaths } from '../../core/init/ssh-key.js';
import { printResult } from '../../ui/output.js';

export default class SshKeyCreate extends BaseCommand<typeof SshKeyCreate> {
  static override summary = 'Create an SSH key pair in the project (ssh/<name> and ssh/<name>.pub).';

  static override description = `The private key is written with mode 0600 in OpenSSH format, without a passphrase.
An existing key of that name is never replaced: the command reports it and exits 0.
Registering the key with a cloud provider is a separate step.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --name nixinfra --email ops@example.com',
    '<%= config.bin %> <%= command.id %> -d ./my-cluster --name legacy --email ops@example.com --type rsa',
  ];

  static override flags = {
    name: Flags.string({ summary: 'Key name: the file name under ssh/.', required: true }),
    email: Flags.string({ summary: 'E-mail put in the key comment.', required: true }),
    type: Flags.string({ summary: 'Key type.', options: ['ed25519', 'rsa'], default: 'ed25519' }),
  };

  async run(): Promise<void> {
    const session = this.openProject();
    const created = await createSshKey(
      { workspace: session.workspace, keys: new Ssh2KeyFactory(), reporter: session.ctx.reporter },
      { name: this.flags.name, email: this.flags.email, type: this.flags.type as 'ed25519' | 'rsa' },
    );
    const paths = sshKeyPaths(this.flags.name);
    printResult(created ? `Created ${paths.privateKey} and ${paths.publicKey}` : `SSH key ${this.flags.name} exists: ${paths.privateKey} kept as it is`);
  }
}
