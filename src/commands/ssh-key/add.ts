import { CloudKeyCommand } from '../../cli/cloud-key-command.js';
import { addCloudKey } from '../../core/provision/cloud-keys.js';

export default class SshKeyAdd extends CloudKeyCommand {
  static override summary = 'Register ssh/<name>.pub with the cloud provider (Hetzner Cloud) for new servers.';

  static override description = `Registering the same key again changes nothing. A different key already registered under that
name, or this key registered under another name, is reported and left alone.
A servers.yaml project manages keys by hand on each server: the command says so and exits 0.`;

  protected readonly action = addCloudKey;
}
