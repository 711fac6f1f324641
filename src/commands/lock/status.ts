import { BaseCommand } from '../../cli/base-command.js';
import { hostResults, type HostResultsJson } from '../../cli/node-commands/host-results.js';
import { nodeRunOptions } from '../../cli/node-commands/run-options.js';
import { connectionFlags, targetFlag } from '../../cli/node-flags.js';
import { openNodeRun } from '../../cli/node-run.js';
import { readLocks, type LockState } from '../../core/lock/manage-locks.js';
import { describeHolder } from '../../core/lock/owner.js';
import { printResult } from '../../ui/output.js';

export default class LockStatus extends BaseCommand<typeof LockStatus> {
  static override summary = "Show who holds the deploy lock of each target node (read only; takes no lock).";

  static override description = `Every command that changes nodes holds a lock on each of them while it runs
(/run/nix-infra/lock/node on the node, see docs/targeting.md). This prints, per node, "free" or
the holder: user@host, pid, command and the lock's age by the node's clock.`;

  static override enableJsonFlag = true;

  static override flags = { target: targetFlag, ...connectionFlags };

  static override examples = ["<%= config.bin %> <%= command.id %> --target 'tier:prod'"];

  async run(): Promise<HostResultsJson<LockState>> {
    const session = this.openProject();
    const run = await openNodeRun(session, nodeRunOptions(this.flags, { sshKeyName: this.sshKeyName(session), json: this.jsonEnabled(), title: 'lock status' }));
    const outcomes = await readLocks(run.deps, { targets: run.targets, concurrency: run.concurrency }).catch(async (err: unknown) => {
      await run.abort();
      throw err;
    });
    process.exitCode = await run.finish(outcomes);
    if (!this.jsonEnabled()) {
      printResult(outcomes.map((o) => `${o.host}: ${o.value === undefined ? `unknown (${o.error ?? 'failed'})` : o.value.lock === undefined ? 'free' : `locked by ${describeHolder(o.value.lock)}`}`).join('\n'));
    }
    return hostResults(outcomes);
  }
}
