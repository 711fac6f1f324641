import { Flags } from '@oclif/core';
import { NodeLocalFiles } from '../../adapters/node-local-files.js';
import { collectGarbage, rollback, upgradeNixos, type UpgradeResult } from '../../core/maintenance/maintenance.js';
import type { HostOutcome } from '../../core/remote/fanout.js';
import { parseTargetList } from '../../core/targets.js';
import { printResult } from '../../ui/output.js';
import { BaseCommand, type ProjectSession } from '../base-command.js';
import { connectionFlags, mutatingFlags, targetFlag } from '../node-flags.js';
import { openNodeRun, type NodeRun } from '../node-run.js';
import { hostResults, type HostResultsJson } from './host-results.js';
import { nodeRunOptions } from './run-options.js';

/**
 * Destructive day-two operations: asked for confirmation first (`--batch` answers yes; without a
 * terminal and without --batch it is an error, exit 2), then fanned out like `cmd`.
 */
abstract class MaintenanceCommand extends BaseCommand<typeof MaintenanceCommand> {
  static override enableJsonFlag = true;
  static override flags = { target: targetFlag, ...connectionFlags, ...mutatingFlags };

  protected async confirmedRun<T>(question: (nodes: string) => string, title: string, work: (run: NodeRun, session: ProjectSession) => Promise<HostOutcome<T>[]>): Promise<HostResultsJson<T>> {
    const session = this.openProject();
    const nodes = parseTargetList(this.flags.target).join(', ');
    if (!(await session.ctx.prompter.confirm(question(nodes)))) {
      if (!this.jsonEnabled()) printResult('Nothing done.');
      return { ok: true, hosts: [] };
    }
    const run = await openNodeRun(session, nodeRunOptions(this.flags, { sshKeyName: this.sshKeyName(session), json: this.jsonEnabled(), title }));
    const outcomes = await work(run, session).catch(async (err: unknown) => {
      await run.abort();
      throw err;
    });
    process.exitCode = await run.finish(outcomes);
    return hostResults(outcomes as HostOutcome<T & object>[]) as HostResultsJson<T>;
  }
}

export abstract class GcCommand extends MaintenanceCommand {
  static override summary = 'Collect garbage on the nodes (nix-collect-garbage -d); this also clears the rollback history.';
  static override description = 'Asks for confirmation unless --batch: older system generations are deleted, so rollback has nothing to go back to afterwards.';
  async run(): Promise<HostResultsJson<{ done: true }>> {
    return this.confirmedRun((n) => `Garbage-collect ${n}? This clears the rollback history.`, 'gc', (run) =>
      collectGarbage(run.deps, { targets: run.targets, concurrency: run.concurrency }),
    );
  }
}

export abstract class RollbackCommand extends MaintenanceCommand {
  static override summary = 'Switch the nodes back to their previous system generation (nixos-rebuild switch --rollback).';
  static override description = 'Asks for confirmation unless --batch. A node whose rollback fails is reported with its output tail; the others go on.';
  async run(): Promise<HostResultsJson<{ done: true }>> {
    return this.confirmedRun((n) => `Roll ${n} back to the previous generation?`, 'rollback', (run) =>
      rollback(run.deps, { targets: run.targets, concurrency: run.concurrency }),
    );
  }
}

export abstract class UpgradeNixosCommand extends MaintenanceCommand {
  static override summary = 'Upgrade the nodes to a NixOS release: files, channel, rebuild; versions before and after.';
  static override description = `With --nixos-version, configuration.nix and flake.nix are uploaded again with that release, the
nixos channel is moved to it, and the nodes are rebuilt; nodes already on it are left alone.
After the rebuild, nixos-version must report that release, or the node fails naming both. Without it, the channel is updated and the nodes rebuilt on their release. Asks for confirmation
unless --batch.`;
  static override flags = { ...MaintenanceCommand.flags, 'nixos-version': Flags.string({ summary: 'Release to move to, e.g. 25.11.' }) };
  async run(): Promise<HostResultsJson<UpgradeResult>> {
    const version = (this.flags as { 'nixos-version'?: string })['nixos-version'];
    return this.confirmedRun((n) => `Upgrade ${n} to NixOS ${version ?? '(current release, updated channel)'}?`, 'upgrade-nixos', (run, session) =>
      upgradeNixos(
        { ...run.deps, project: session.workspace, local: new NodeLocalFiles(session.workingDir) },
        { targets: run.targets, concurrency: run.concurrency, ...(version === undefined ? {} : { nixosVersion: version }) },
      ),
    );
  }
}
