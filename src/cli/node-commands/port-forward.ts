import { Flags } from '@oclif/core';
import { forwardLocalPort } from '../../adapters/local-port-forward.js';
import { OperationFailed } from '../../domain/errors.js';
import { printNote } from '../../ui/output.js';
import { BaseCommand, type ProjectSession } from '../base-command.js';
import { controlNodeNames, overlayIpOf } from '../control-plane-session.js';
import { connectionFlags } from '../node-flags.js';
import { withSingleNode } from '../node-run.js';
import { singleNodeOptions } from './run-options.js';
import { wholeNumberFlag } from '../numeric-flag.js';

/** `fleet port-forward`: a local port carried to a port on (or reachable from) one node. */
export abstract class PortForwardCommand extends BaseCommand<typeof PortForwardCommand> {
  static override summary = 'Forward a local port to a port on a node, until Ctrl-C.';

  static override description = `Listens on 127.0.0.1:<local-port> and carries every connection through the node's SSH
connection to <remote-host>:<remote-port> as seen from the node (127.0.0.1 by default, i.e. a
service listening on the node's loopback). Ctrl-C stops it and exits 0; a lost connection
exits 1.`;

  static override flags = {
    target: Flags.string({ summary: 'The node.', required: true }),
    'local-port': wholeNumberFlag({ summary: 'Port on this machine (127.0.0.1); 0 picks a free one.', required: true, min: 0, max: 65535 }),
    'remote-port': wholeNumberFlag({ summary: 'Port on the node.', required: true, min: 1, max: 65535 }),
    'remote-host': Flags.string({ summary: 'Address as seen from the node (default 127.0.0.1; cluster: the node\'s overlay IP).' }),
    ...connectionFlags,
  };

  /** Cluster: without --remote-host, the target's overlay IP (from flannel's lease in etcd). */
  static overlay = false;

  async run(): Promise<void> {
    const session = this.openProject();
    const remoteHost = this.flags['remote-host'] ?? (await this.overlayIpOf(session, this.flags.target));
    await withSingleNode(session, 'port-forward', singleNodeOptions(this.flags, this.sshKeyName(session)), async (host) => {
      const remote = `${remoteHost}:${this.flags['remote-port']}`;
      const forward = await forwardLocalPort(host, this.flags['local-port'], remoteHost, this.flags['remote-port'], (message) =>
        printNote(`warning: ${message}`),
      );
      printNote(`Forwarding 127.0.0.1:${forward.localPort} -> ${host.target.name} ${remote} (Ctrl-C to stop)`);
      const stopped = new Promise<'signal'>((resolve) => {
        process.once('SIGINT', () => resolve('signal'));
        process.once('SIGTERM', () => resolve('signal'));
      });
      const ended = await Promise.race([stopped, host.closed]);
      await forward.stop();
      if (ended !== 'signal') throw new OperationFailed(`${host.target.name}: SSH connection ended; forwarding stopped (${ended})`);
      printNote('Forwarding stopped.');
    });
  }

  private async overlayIpOf(session: ProjectSession, node: string): Promise<string> {
    if (!(this.ctor as unknown as typeof PortForwardCommand).overlay) return '127.0.0.1';
    return overlayIpOf(session, node, {
      ctrlNodes: await controlNodeNames(session, (this.flags as { 'ctrl-nodes'?: string[] })['ctrl-nodes']),
      sshKeyName: this.sshKeyName(session),
      connectTimeoutSeconds: this.flags['connect-timeout'],
      acceptHostKey: this.flags['accept-host-key'] ?? [],
    });
  }
}
