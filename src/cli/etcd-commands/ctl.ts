import { Args } from '@oclif/core';
import { OperationFailed, UserError } from '../../domain/errors.js';
import { argvFromWords } from '../../domain/shell-words.js';
import { etcdctlCommand } from '../../remote/etcdctl.js';
import { passThrough } from '../../ui/output.js';
import { BaseCommand } from '../base-command.js';
import { controlNodeNames } from '../control-plane-session.js';
import { prepareConnections } from '../node-run.js';
import { etcdFlags } from './base.js';

/** `etcd ctl <etcdctl args>`: etcdctl on a control node, as upstream did, for anything else. */
export abstract class EtcdCtlCommand extends BaseCommand<typeof EtcdCtlCommand> {
  static override summary = 'Run etcdctl on a control node with its own certificate (for what the other etcd commands do not cover).';
  static override description = `Several arguments reach etcdctl as they are, each quoted once. One argument is upstream's form,
a whole command line in one string ("del --prefix /cluster/services"): it is split into words as a
shell would (quotes and backslashes respected), with nothing expanded or globbed. etcdctl talks to the node's local member with the node's client certificate from /root/certs.
Control nodes are tried in order (--ctrl-nodes, else CTRL_NODES, else those init-ctrl remembered)
until one can be reached;
etcdctl's output and exit status are passed through.`;
  static override examples = [
    '<%= config.bin %> <%= command.id %> -- member list -w table',
    '<%= config.bin %> <%= command.id %> -- endpoint status --cluster',
    '<%= config.bin %> <%= command.id %> "del --prefix /cluster/services" --target etcd001',
  ];
  static override strict = false;
  static override args = { words: Args.string({ description: 'etcdctl arguments (put -- before the first one that starts with -), or all of them in one quoted string.' }) };
  static override flags = { ...etcdFlags };

  async run(): Promise<void> {
    const args = argvFromWords(this.rest);
    if (args.length === 0) throw new UserError('no etcdctl arguments given', { hints: ['e.g. nix-infra etcd ctl -- member list'] });
    const session = this.openProject();
    const { connector, targets } = await prepareConnections(session, {
      targetValues: await controlNodeNames(session, this.flags['ctrl-nodes']),
      concurrency: 1,
      connectTimeoutSeconds: this.flags['connect-timeout'],
      acceptHostKey: this.flags['accept-host-key'] ?? [],
      sshKeyName: this.sshKeyName(session),
    });
    const failures: string[] = [];
    try {
      for (const target of targets) {
        let host;
        try {
          host = await connector.connect(target);
        } catch (err) {
          failures.push((err as Error).message);
          continue;
        }
        const result = await host.exec(etcdctlCommand(target.name, args), { onOutput: passThrough });
        process.exitCode = result.exitCode ?? 1;
        return;
      }
      throw new OperationFailed('no control node could be reached over SSH', failures);
    } finally {
      await connector.closeAll();
    }
  }
}
