import { StatusCommand } from '../../cli/node-commands/status.js';

export default class ClusterStatus extends StatusCommand {
  static override mode = 'cluster' as const;
  /** Like `deploy`, the short form is the cluster one. */
  static override aliases = ['status'];
  static override examples = ['<%= config.bin %> <%= command.id %> --target "worker001 worker002" --ctrl-nodes etcd001', '<%= config.bin %> status --target worker001 --json'];
}
