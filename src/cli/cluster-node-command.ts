import path from 'node:path';
import { Flags } from '@oclif/core';
import { ForgePki } from '../adapters/forge-pki.js';
import { NodeLocalFiles } from '../adapters/node-local-files.js';
import { restartConfd, setUpClusterNodes, type ClusterNodeResult } from '../core/cluster/init-node.js';
import { prepareDeployInputs } from '../core/deploy/deploy-inputs.js';
import { deployNodes } from '../core/deploy/deploy-nodes.js';
import { FsSecretStore } from '../adapters/secret-store/fs-secret-store.js';
import { ExitCode, OperationFailed } from '../domain/errors.js';
import type { ServerInfo } from '../ports/provider.js';
import type { HostTarget } from '../ports/remote-host.js';
import { goalActivates } from '../domain/deploy-goal.js';
import { summarise } from '../ui/host-summary.js';
import { printNote, printResult } from '../ui/output.js';
import { clusterNodeMap } from './cluster-node-map.js';
import { nodeRecord, registerNode } from '../core/control-plane/membership.js';
import { parseTargetList, resolveTargets } from '../core/targets.js';
import { checkSshKeyName } from '../domain/names.js';
import { ReusingConnector } from '../core/remote/reusing-connector.js';
import { operatorName } from './operator.js';
import { BaseCommand, type ProjectSession } from './base-command.js';
import { controlNodeNames, ctrlNodesOption, openControlPlane, type ControlPlaneSession } from './control-plane-session.js';
import { hostResults, type HostResultsJson } from './node-commands/host-results.js';
import { nodeRunOptions } from './node-commands/run-options.js';
import { goalFlags, resolveGoal } from './goal-flag.js';
import { connectionFlags, mutatingFlags, targetFlag } from './node-flags.js';
import { openNodeRun } from './node-run.js';

/** `cluster init-node` and `cluster update-node`: the same upload, different extras. */
export abstract class ClusterNodeCommand extends BaseCommand<typeof ClusterNodeCommand> {
  /** init-node: certificates, rebuild and registration; update-node: files, rebuild on request. */
  static initialise: boolean;

  static override enableJsonFlag = true;

  static override flags = {
    target: targetFlag,
    'node-module': Flags.string({ summary: 'Node type uploaded as cluster_node.nix.', default: 'node_types/cluster_node.nix' }),
    'nixos-version': Flags.string({ summary: 'NixOS release of the nodes, e.g. 25.05.', required: true }),
    'ctrl-nodes': ctrlNodesOption('Control nodes (default: CTRL_NODES, else those init-ctrl remembered).'),
    'service-group': Flags.string({ summary: 'Service groups the nodes consume: "backends services" (init-node).', default: '' }),
    ...goalFlags,
    ...connectionFlags,
    ...mutatingFlags,
  };

  /**
   * The etcd session (over the command's shared connections) and the node map read through it;
   * fails, closing the session, when etcd does not answer, before anything changed on a node.
   */
  private async controlPlaneFirst(
    session: ProjectSession,
    servers: readonly ServerInfo[],
    connection: Parameters<typeof openControlPlane>[1],
    shared: ReusingConnector,
    ctrlNodes: readonly HostTarget[],
  ): Promise<{ session: ControlPlaneSession; map: Awaited<ReturnType<typeof clusterNodeMap>> }> {
    const attempts = await Promise.allSettled(ctrlNodes.map((target) => shared.connect(target)));
    const hosts = attempts.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
    const unreachable = attempts.flatMap((a, i) => (a.status === 'rejected' ? [`${ctrlNodes[i]?.name}: ${(a.reason as Error).message}`] : []));
    const cp = await openControlPlane(session, connection, { connector: shared, hosts, unreachable });
    try {
      return { session: cp, map: await clusterNodeMap(session, servers, cp.cp, connection) };
    } catch (err) {
      await cp.close();
      const reason = err instanceof Error ? err.message : String(err);
      throw new OperationFailed(`etcd on the control nodes does not answer (${reason}); nothing was changed on the nodes`, [
        `control nodes tried: ${connection.ctrlNodes.join(', ')}`,
        'start etcd there (or fix --ctrl-nodes / CTRL_NODES) and run init-node again',
      ]);
    }
  }

  async run(): Promise<HostResultsJson<ClusterNodeResult> & { registered?: { node: string; outcome: string }[] }> {
    const initialise = (this.ctor as unknown as typeof ClusterNodeCommand).initialise;
    // init-node always rebuilds (once, after its apps deploy) and then registers the node, so a
    // goal that builds nothing to run (build, dry-activate) does not fit it.
    const goal = resolveGoal(
      this.flags,
      initialise
        ? { command: 'cluster init-node', byDefault: 'switch', alwaysRebuilds: true, allowed: ['switch', 'boot', 'test'], noRebuildHint: 'to upload system files only: cluster update-node' }
        : { command: 'cluster update-node', byDefault: undefined },
    );
    const session = this.openProject();
    const sshKeyName = this.sshKeyName(session);
    const ctrlNames = await controlNodeNames(session, this.flags['ctrl-nodes']);
    const groups = parseTargetList([this.flags['service-group']]);
    const store = new FsSecretStore(path.join(session.workingDir, 'secrets'));
    // Inputs first: the apps deploy after the join needs the secrets password; a wrong one must
    // stop the command before the node is touched (and before a task list is drawn), not leave
    // it half-joined.
    const inputs = initialise ? await prepareDeployInputs({ ctx: session.ctx, store, nodeFileSource: session.workspace }, { nodes: parseTargetList(this.flags.target) }) : undefined;
    const run = await openNodeRun(session, nodeRunOptions(this.flags, { sshKeyName, json: this.jsonEnabled(), title: initialise ? 'init-node' : 'update-node' }));
    if (sshKeyName !== undefined) checkSshKeyName(sshKeyName);
    const ctrlNodes = resolveTargets(run.servers, ctrlNames, sshKeyName === undefined ? undefined : path.join(session.workingDir, 'ssh', sshKeyName));
    // One login per host for the whole command: etcd tunnels, set-up, apps deploy and confd share connections.
    const shared = new ReusingConnector(run.deps.connector);
    const connection = { ctrlNodes: ctrlNames, sshKeyName, connectTimeoutSeconds: this.flags['connect-timeout'], acceptHostKey: this.flags['accept-host-key'] ?? [] };
    // init-node ends by writing to etcd: check that etcd answers (one session, reused for the node
    // map and the registration) before anything is issued or changed on a node.
    const control = initialise
      ? await this.controlPlaneFirst(session, run.servers, connection, shared, ctrlNodes).catch(async (err: unknown) => {
          await run.abort();
          throw err;
        })
      : undefined;
    try {
      const outcomes = await setUpClusterNodes(
        { ...run.deps, connector: shared, ctx: session.ctx, project: session.workspace, pki: new ForgePki(), local: new NodeLocalFiles(session.workingDir) },
        {
          targets: run.targets,
          ctrlNodes,
          nixosVersion: this.flags['nixos-version'],
          nodeModule: this.flags['node-module'],
          concurrency: run.concurrency,
          withCertificates: initialise,
          // init-node rebuilds once, after the apps deploy below.
          goal: initialise ? undefined : goal,
        },
      ).catch(async (err: unknown) => {
        await control?.session.close();
        await run.abort();
        throw err;
      });
      let ready = run.targets.filter((t) => outcomes.some((o) => o.host === t.name && o.ok));
      // The etcd session's tunnels run over the shared connections: keep them while it is open.
      let exit = await run.finish(outcomes, { keepConnections: control !== undefined });
      process.exitCode = exit;
      if (control === undefined || ready.length === 0) return hostResults(outcomes);

      // Between the node map and the registration: the apps deploy (node file, app_modules,
      // secrets), the rebuild, and confd rendered afresh.
      const deps = { connector: shared, reporter: session.reporter, now: session.ctx.now };
      const registered: { node: string; outcome: string }[] = [];
      const { nodes, etcdCluster } = control.map;
      const deployed = await deployNodes(
        { ...deps, ctx: session.ctx, project: session.workspace, local: new NodeLocalFiles(session.workingDir), store, recorder: { operator: operatorName(), cliVersion: this.config.version } },
        {
          ...(inputs === undefined ? {} : { inputs }),
          mode: 'cluster',
          targets: ready,
          nodes,
          nixosVersion: this.flags['nixos-version'],
          nodeModule: this.flags['node-module'],
          etcdCluster,
          parts: 'apps',
          goal,
          concurrency: this.flags.concurrency,
          // Only init-node has --strict: update-node renders no node file.
          forwardReferences: (this.flags as { strict?: boolean }).strict === true ? 'error' : 'warn',
        },
      );
      ready = ready.filter((t) => deployed.some((o) => o.host === t.name && o.ok));
      // confd is restarted where the new system runs now (switch, test), not for --goal boot.
      const confd = goalActivates(goal) ? await restartConfd(deps, ready, this.flags.concurrency) : [];
      ready = ready.filter((t) => confd.some((o) => o.host === t.name && o.ok));
      // One line per host: its deploy's outcome, or its confd restart's when that failed.
      const all = deployed.map((o) => confd.find((c) => c.host === o.host && !c.ok) ?? o);
      printNote(summarise(all));
      if (!all.every((o) => o.ok)) exit = ExitCode.failed;
      process.exitCode = exit;

      for (const target of ready) {
        const result = await registerNode(control.session.cp, nodeRecord(target.name, target.address, groups));
        registered.push({ node: target.name, outcome: result.outcome });
        if (!this.jsonEnabled()) printResult(`${result.key}: ${result.outcome}`);
      }
      return { ...hostResults(outcomes), registered };
    } finally {
      // The etcd session first: its tunnels run over the shared connections.
      await control?.session.close();
      await shared.closeAll();
    }
  }
}
