import { hostname, userInfo } from 'node:os';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { hostResults, type HostResultsJson } from '../../cli/node-commands/host-results.js';
import { nodeRunOptions } from '../../cli/node-commands/run-options.js';
import { connectionFlags, targetFlag } from '../../cli/node-flags.js';
import { openNodeRun } from '../../cli/node-run.js';
import { releaseLocks, type LockState } from '../../core/lock/manage-locks.js';
import type { HeldLock } from '../../core/lock/owner.js';

export default class LockRelease extends BaseCommand<typeof LockRelease> {
  static override summary = 'Remove a stale deploy lock from the target nodes.';

  static override description = `Without --force, only locks whose owner is a process of this machine that no longer
runs are removed; a lock held from another machine, or by a process still running here, is
refused with its owner named. --force removes any lock: use it when the holder is known to be
gone (its laptop crashed, it was killed). A lock also disappears when the node reboots.`;

  static override enableJsonFlag = true;

  static override flags = {
    target: targetFlag,
    force: Flags.boolean({ summary: 'Remove the lock whoever holds it.', default: false }),
    ...connectionFlags,
  };

  static override examples = ['<%= config.bin %> <%= command.id %> --target web1', '<%= config.bin %> <%= command.id %> --target web1 --force'];

  async run(): Promise<HostResultsJson<LockState & { released: boolean }>> {
    const session = this.openProject();
    const run = await openNodeRun(session, nodeRunOptions(this.flags, { sshKeyName: this.sshKeyName(session), json: this.jsonEnabled(), title: 'lock release' }));
    const me = `${userInfo().username}@${hostname()}`;
    const outcomes = await releaseLocks(run.deps, { targets: run.targets, concurrency: run.concurrency, force: this.flags.force, isStale: (lock) => staleHere(lock, me) }).catch(
      async (err: unknown) => {
        await run.abort();
        throw err;
      },
    );
    process.exitCode = await run.finish(outcomes);
    return hostResults(outcomes);
  }
}

/** A lock of this machine whose process is gone. Another machine's lock is never judged stale. */
function staleHere(lock: HeldLock, me: string): boolean {
  if (lock.owner?.who !== me) return false;
  try {
    process.kill(lock.owner.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
