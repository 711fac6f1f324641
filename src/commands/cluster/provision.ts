import { ProvisionCommand } from '../../cli/node-commands/provision.js';

export default class ClusterProvision extends ProvisionCommand {
  static override role = 'cluster' as const;
  /** The original README's form: `nix-infra provision ...`. */
  static override aliases = ['provision'];
  static override examples = [
    '<%= config.bin %> <%= command.id %> --node-names "etcd001 etcd002 etcd003" --nixos-version 25.05 --machine-type cx22 --location hel1 --placement-group etcd',
    '<%= config.bin %> provision --node-names "worker001 worker002" --nixos-version 25.05 --machine-type cpx21 --location hel1',
  ];
}
