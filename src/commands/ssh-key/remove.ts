import { CloudKeyCommand } from '../../cli/cloud-key-command.js';
import { removeCloudKey } from '../../core/provision/cloud-keys.js';

export default class SshKeyRemove extends CloudKeyCommand {
  static override summary = 'Remove the SSH key <name> from the cloud provider, only if it is ssh/<name>.pub.';

  static override description = `The cloud's key must have the fingerprint of the local ssh/<name>.pub: a colleague's key that
merely shares the name is never removed. Servers created with the key keep it.
A servers.yaml project manages keys by hand on each server: the command says so and exits 0.`;

  protected readonly action = removeCloudKey;
}
