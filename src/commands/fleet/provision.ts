import { ProvisionCommand } from '../../cli/node-commands/provision.js';

export default class FleetProvision extends ProvisionCommand {
  static override role = 'fleet' as const;
  static override examples = [
    '<%= config.bin %> <%= command.id %> --node-names "web1 web2" --nixos-version 25.05 --machine-type cx22 --location fsn1',
    '<%= config.bin %> <%= command.id %> -d ./fleet --node-names box1 --nixos-version 25.05   # servers.yaml project',
  ];
}
