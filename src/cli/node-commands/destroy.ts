import { leaveCluster } from '../../core/cluster/leave-cluster.js';
import { destroyNodes } from '../../core/provision/destroy.js';
import { CLUSTER_STATE_FILE, type ControlNodes } from '../../core/cluster/control-nodes.js';
import { selectForDestroy } from '../../core/selectors/select-targets.js';
import { resolveTargets } from '../../core/targets.js';
import type { ServerProvider } from '../../ports/provider.js';
import { OperationFailed } from '../../domain/errors.js';
import { printResult } from '../../ui/output.js';
import { BaseCommand, type ProjectSession } from '../base-command.js';
import { findControlNodes, openControlPlane } from '../control-plane-session.js';
import { createConnector, projectTierPolicy } from '../node-run.js';
import { mutatingFlags, targetFlag } from '../node-flags.js';
import { openProvider } from '../open-provider.js';
import { ownershipLabels } from '../project-labels.js';
import { finishWithStates, type HostResultsJson } from './host-results.js';

/** `fleet destroy` and `cluster destroy`. */
export abstract class DestroyCommand extends BaseCommand<typeof DestroyCommand> {
  static override summary = "Delete the target servers in the cloud (only servers labelled as this project's).";

  static override description = `Asks for confirmation unless --batch. Servers without the managed-by=nix-infra label of this
project are never deleted, whatever their name. A servers.yaml project has nothing to delete:
the command says so and exits 0.`;

  /** The role the command is for; destroy matches servers by project, whatever their role. */
  static role: 'fleet' | 'cluster';

  static override enableJsonFlag = true;

  static override flags = {
    target: targetFlag,
    'allow-tier': mutatingFlags['allow-tier'],
  };

  async run(): Promise<HostResultsJson<{ state: string }> | { ok: true; message: string }> {
    const session = this.openProject();
    const provider = await openProvider(session);
    const guard = { policy: projectTierPolicy(session), allowTiers: this.flags['allow-tier'] ?? [] };
    const names = selectForDestroy(await provider.listServers(), this.flags.target, guard);
    const role = (this.ctor as unknown as typeof DestroyCommand).role;
    // Cluster nodes leave the cluster first: the control nodes are needed before anything else.
    const ctrl = role === 'cluster' ? await findControlNodes(session, (this.flags as { 'ctrl-nodes'?: string[] })['ctrl-nodes']) : undefined;
    if (role === 'cluster' && ctrl === undefined) {
      // A node provisioned but never joined (or a whole cluster going away) has nothing to leave.
      session.reporter.emit({
        kind: 'warning',
        message: `no control nodes known (--ctrl-nodes, CTRL_NODES, ${CLUSTER_STATE_FILE} or etcdNNN servers): the nodes are not unregistered from etcd`,
      });
    }
    const result = await destroyNodes(
      { provider, prompter: session.ctx.prompter, reporter: session.reporter },
      {
        names,
        labels: () => ownershipLabels(session, this.sshKeyName(session), role),
        ...(ctrl === undefined ? {} : { beforeDelete: (targets: readonly string[]) => this.leave(session, provider, ctrl, targets) }),
      },
    );
    if (result.kind === 'unsupported') {
      if (!this.jsonEnabled()) printResult(result.message);
      return { ok: true, message: result.message };
    }
    if (result.kind === 'cancelled') {
      if (!this.jsonEnabled()) printResult('Nothing deleted.');
      return { ok: true, message: 'cancelled' };
    }
    return finishWithStates(result.outcomes);
  }

  /** Stops flannel where reachable and deletes each node's registration and leases in etcd. */
  private async leave(session: ProjectSession, provider: ServerProvider, ctrl: ControlNodes, names: readonly string[]): Promise<void> {
    const sshKeyName = this.sshKeyName(session);
    const flags = this.flags as unknown as { 'connect-timeout'?: number };
    const connectTimeoutSeconds = flags['connect-timeout'] ?? 20;
    const servers = await provider.listServers();
    const defaultKey = sshKeyName === undefined ? undefined : session.workspace.resolve(`ssh/${sshKeyName}`);
    const nodes = names.map((name) => {
      const server = servers.find((s) => s.name === name);
      const target = server?.address === undefined ? undefined : resolveTargets(servers, [name], defaultKey)[0];
      return { name, ...(target === undefined ? {} : { target }), ...(server?.address === undefined ? {} : { ipv4: server.address }) };
    });
    const connector = createConnector(session, { concurrency: names.length, connectTimeoutSeconds, acceptHostKey: [] });
    let cp;
    try {
      cp = await openControlPlane(session, { ctrlNodes: ctrl.names, sshKeyName, connectTimeoutSeconds, acceptHostKey: [] });
    } catch (err) {
      // Control nodes the operator named must answer. Remembered or guessed ones may be gone
      // already (the whole cluster is being torn down): then there is nothing left to leave.
      await connector.closeAll();
      if (!(err instanceof OperationFailed) || ctrl.source === 'flag' || ctrl.source === 'env') throw err;
      session.reporter.emit({ kind: 'warning', message: `control nodes ${ctrl.names.join(', ')} not reachable: the nodes are not unregistered from etcd (${err.message})` });
      return;
    }
    try {
      await leaveCluster({ connector, reporter: session.reporter }, cp.cp, nodes);
    } finally {
      await cp.close();
      await connector.closeAll();
    }
  }
}
