import { Flags } from '@oclif/core';
import type { RemoteHost } from '../ports/remote-host.js';
import { BaseCommand, type ProjectSession } from './base-command.js';
import { controlNodeNames, ctrlNodesOption, overlayIpOf } from './control-plane-session.js';
import { connectionFlags } from './node-flags.js';
import { withSingleNode } from './node-run.js';
import { singleNodeOptions } from './node-commands/run-options.js';

/** The registry commands: one registry node, reached at its overlay IP or on its own loopback. */
export abstract class RegistryCommand extends BaseCommand<typeof RegistryCommand> {
  static override baseFlags = {
    ...BaseCommand.baseFlags,
    target: Flags.string({ summary: 'The registry node.', required: true }),
    'use-localhost': Flags.boolean({ summary: 'The registry listens on the node\'s 127.0.0.1:5000, not on its overlay IP.', default: false }),
    'ctrl-nodes': ctrlNodesOption('Control nodes, for the overlay IP (default: CTRL_NODES, else those init-ctrl remembered).'),
    ...connectionFlags,
  };

  protected async onRegistryNode<T>(use: (host: RemoteHost, registryHost: string, session: ProjectSession) => Promise<T>): Promise<T> {
    const session = this.openProject();
    const flags = this.flags as unknown as { target: string; 'use-localhost': boolean; 'ctrl-nodes'?: string[]; 'connect-timeout': number; 'accept-host-key'?: string[] };
    const sshKeyName = this.sshKeyName(session);
    const registryHost = flags['use-localhost']
      ? '127.0.0.1'
      : await overlayIpOf(session, flags.target, {
          ctrlNodes: await controlNodeNames(session, flags['ctrl-nodes']),
          sshKeyName,
          connectTimeoutSeconds: flags['connect-timeout'],
          acceptHostKey: flags['accept-host-key'] ?? [],
        });
    return withSingleNode(session, 'registry', singleNodeOptions(flags, sshKeyName), (host) => use(host, registryHost, session));
  }
}
