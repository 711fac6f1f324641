import { DeployCommand } from '../../cli/node-commands/deploy.js';

export default class ClusterDeployApps extends DeployCommand {
  static override mode = 'cluster' as const;
  /** The original README's form: `nix-infra deploy ...`. */
  static override aliases = ['deploy'];
  static override examples = [
    '<%= config.bin %> <%= command.id %> --target "worker001 worker002" --nixos-version 25.05 --ctrl-nodes etcd001 --rebuild',
    '<%= config.bin %> deploy --target service001 --nixos-version 25.05 --test-dir __test__/mariadb',
  ];
}
