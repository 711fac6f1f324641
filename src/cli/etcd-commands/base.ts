import { Flags, type Command } from '@oclif/core';
import type { ControlPlane } from '../../ports/control-plane.js';
import { BaseCommand, type ProjectSession } from '../base-command.js';
import { controlNodeNames, ctrlNodesFlag, openControlPlane } from '../control-plane-session.js';
import { wholeNumberFlag } from '../numeric-flag.js';

/** Flags of every command that talks to etcd through the control nodes. */
export const etcdFlags = {
  'ctrl-nodes': ctrlNodesFlag,
  'connect-timeout': wholeNumberFlag({ summary: 'Seconds to establish one SSH connection, retries included.', default: 20, min: 1, max: 600, helpGroup: 'CONNECTION' }),
  'accept-host-key': Flags.string({
    summary: "Accept this node's changed SSH host key (after a reinstall) and pin the new one.",
    multiple: true,
    multipleNonGreedy: true,
    helpGroup: 'CONNECTION',
  }),
};

/** etcd commands: open the control plane through SSH tunnels, run one operation, close. */
export abstract class EtcdCommand<T extends typeof Command> extends BaseCommand<T> {
  static override enableJsonFlag = true;

  protected async withControlPlane<R>(use: (cp: ControlPlane, session: ProjectSession) => Promise<R>): Promise<R> {
    const session = this.openProject();
    const flags = this.flags as unknown as { 'ctrl-nodes'?: string[]; 'connect-timeout': number; 'accept-host-key'?: string[] };
    const opened = await openControlPlane(session, {
      ctrlNodes: await controlNodeNames(session, flags['ctrl-nodes']),
      sshKeyName: this.sshKeyName(session),
      connectTimeoutSeconds: flags['connect-timeout'],
      acceptHostKey: flags['accept-host-key'] ?? [],
    });
    try {
      return await use(opened.cp, session);
    } finally {
      await opened.close();
    }
  }
}

/** etcdctl's way of printing entries: the key on one line, the value on the next. */
export function entryLines(entries: ReadonlyMap<string, string>): string {
  return [...entries].map(([key, value]) => `${key}\n${value}`).join('\n');
}
