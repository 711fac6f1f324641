import path from 'node:path';
import { Flags } from '@oclif/core';
import { openSecretStore } from '../secret-store.js';
import { NodeLocalFiles } from '../../adapters/node-local-files.js';
import { NodeWorkspace } from '../../adapters/node-workspace.js';
import { prepareDeployInputs } from '../../core/deploy/deploy-inputs.js';
import { deployNodes, type DeployResult } from '../../core/deploy/deploy-nodes.js';
import type { NodeAddresses } from '../../core/deploy/placeholders.js';
import { parseTargetList } from '../../core/targets.js';
import { checkNodeModule } from '../../core/cluster/init-node.js';
import { UserError } from '../../domain/errors.js';
import { checkNixosVersion } from '../../remote/nixos-install.js';
import { BaseCommand, existingFolder } from '../base-command.js';
import { operatorName } from '../operator.js';
import { clusterNodeMap } from '../cluster-node-map.js';
import { controlNodeNames, ctrlNodesOption, openControlPlane } from '../control-plane-session.js';
import { goalFlags, resolveGoal } from '../goal-flag.js';
import { connectionFlags, mutatingFlags, strictFlag, targetFlag } from '../node-flags.js';
import { openNodeRun } from '../node-run.js';
import { hostResults, type HostResultsJson } from './host-results.js';
import { nodeRunOptions } from './run-options.js';

/** `fleet deploy-apps`, `cluster deploy-apps` and the flat `deploy`. */
export abstract class DeployCommand extends BaseCommand<typeof DeployCommand> {
  static mode: 'fleet' | 'cluster';
  /** What goes to the nodes (see DeployParams.parts); deploy-apps: the apps. */
  static parts: 'system' | 'apps' | 'all' = 'apps';
  /** init-machine always rebuilds. */
  static alwaysRebuild = false;

  static override summary = "Deploy the nodes' own file, app modules and secrets; rebuild with a goal on request.";

  static override description = `Renders nodes/<node>.nix (or --test-dir's) and uploads it with app_modules/ (files gone locally
are removed, only inside /etc/nixos/app_modules; a missing node file is an error); every placeholder must resolve on every node
before any node changes (an unknown one is named with file and line; a node or overlay IP that
does not exist yet is a warning, see --strict). Each referenced secret that
changed goes over SSH into systemd-creds (/root/secrets/<name>; plaintext never on the node's
disk, never in argv); unreferenced ones are removed; pre-build secrets go to /run/keys. Legacy
(Dart tool) secret files are refused unless imported (\`secrets import\`) or --allow-legacy-secrets. Then
nixos-rebuild <goal> with --goal switch|boot|test|dry-activate|build (--rebuild is --goal switch;
default: switch for fleet, no rebuild for cluster, as upstream; dry-activate reports per host the
units activation would stop, restart and start). Without --nixos-version, each node's running
release is used for the rendering. A host that cannot be
reached is reported failed with its cause while the others are deployed (--all-or-nothing: none
is); changed files travel as one stream per host into a stage folder and are swapped in at once.`;

  static override enableJsonFlag = true;

  static override flags = {
    target: targetFlag,
    'nixos-version': Flags.string({ summary: 'NixOS release to render, e.g. 25.05 (deploy-apps: default, the release each node runs).' }),
    'node-module': Flags.string({ summary: 'Node type uploaded as cluster_node.nix (default: standalone_machine.nix for fleet, cluster_node.nix for cluster).' }),
    'test-dir': Flags.string({ summary: 'Folder whose nodes/<node>.nix replaces the project\'s (upstream\'s test harness).' }),
    ...goalFlags,
    'allow-legacy-secrets': Flags.boolean({ summary: "Use the Dart tool's legacy secret files (each is named in a warning); better: `secrets import`." }),
    'all-or-nothing': Flags.boolean({
      summary: 'Deploy no host unless every host could be reached and planned (default: an unreachable host fails alone).',
    }),
    strict: strictFlag,
    'ctrl-nodes': ctrlNodesOption('Cluster: control nodes (default: CTRL_NODES, else those init-ctrl remembered).'),
    ...connectionFlags,
    ...mutatingFlags,
  };

  async run(): Promise<HostResultsJson<DeployResult>> {
    const ctor = this.ctor as unknown as typeof DeployCommand;
    const mode = ctor.mode;
    const nixosVersion = this.flags['nixos-version'];
    if (ctor.parts !== 'apps' && nixosVersion === undefined) throw new UserError(`${this.id ?? 'this command'} needs --nixos-version`, { hints: ['e.g. --nixos-version 25.05'] });
    const goal = resolveGoal(this.flags, {
      command: this.id?.replaceAll(':', ' ') ?? 'deploy',
      byDefault: mode === 'fleet' || ctor.alwaysRebuild ? 'switch' : undefined,
      alwaysRebuilds: ctor.alwaysRebuild,
      noRebuildHint: 'to upload without rebuilding: fleet update --no-rebuild, then fleet deploy-apps --no-rebuild (or --goal build to only build)',
    });
    // Flag values are checked before anything is opened (the project files follow in deployNodes).
    if (nixosVersion !== undefined) checkNixosVersion(nixosVersion);
    if (this.flags['node-module'] !== undefined) checkNodeModule(this.flags['node-module']);
    const session = this.openProject();
    // A --test-dir that does not exist is an input error, found before anything is reached.
    const testDir = this.flags['test-dir'] === undefined ? undefined : existingFolder(path.resolve(this.flags['test-dir']), '--test-dir');
    const sshKeyName = this.sshKeyName(session);
    const store = openSecretStore(session.workingDir);
    const nodeFileSource = testDir === undefined ? undefined : new NodeWorkspace(testDir);
    // Inputs first: the password (prompted before a task list is drawn) and the referenced
    // secrets, before the control plane or any node is reached.
    const inputs =
      ctor.parts === 'system'
        ? undefined
        : await prepareDeployInputs(
            { ctx: session.ctx, store, nodeFileSource: nodeFileSource ?? session.workspace },
            // deploy-apps exists to deploy the node file: without one it would only remove secrets.
            { nodes: parseTargetList(this.flags.target), requireNodeFiles: ctor.parts === 'apps' },
          );
    const run = await openNodeRun(session, nodeRunOptions(this.flags, { sshKeyName, json: this.jsonEnabled(), title: `deploy (${mode})` }));
    try {
      let nodes = new Map<string, NodeAddresses>(run.servers.map((s) => [s.name, { ipv4: s.address }]));
      let etcdCluster: string | undefined;
      if (mode === 'cluster') {
        const ctrlNodes = await controlNodeNames(session, this.flags['ctrl-nodes'], run.servers);
        const cp = await openControlPlane(session, {
          ctrlNodes,
          sshKeyName,
          connectTimeoutSeconds: this.flags['connect-timeout'],
          acceptHostKey: this.flags['accept-host-key'] ?? [],
        });
        try {
          ({ nodes, etcdCluster } = await clusterNodeMap(session, run.servers, cp.cp, { ctrlNodes, sshKeyName }));
        } finally {
          await cp.close();
        }
      }
      const outcomes = await deployNodes(
        {
          ...run.deps,
          ctx: session.ctx,
          project: session.workspace,
          local: new NodeLocalFiles(session.workingDir),
          store,
          recorder: { operator: operatorName(), cliVersion: this.config.version },
        },
        {
          mode,
          targets: run.targets,
          nodes,
          ...(nixosVersion === undefined ? {} : { nixosVersion }),
          parts: ctor.parts,
          nodeModule: this.flags['node-module'] ?? (mode === 'fleet' ? 'node_types/standalone_machine.nix' : 'node_types/cluster_node.nix'),
          ...(etcdCluster === undefined ? {} : { etcdCluster }),
          ...(nodeFileSource === undefined ? {} : { nodeFileSource }),
          ...(inputs === undefined ? {} : { inputs }),
          goal,
          concurrency: run.concurrency,
          allOrNothing: this.flags['all-or-nothing'],
          allowLegacySecrets: this.flags['allow-legacy-secrets'],
          forwardReferences: this.flags.strict ? 'error' : 'warn',
        },
      );
      process.exitCode = await run.finish(outcomes);
      return hostResults(outcomes);
    } catch (err) {
      await run.abort();
      throw err;
    }
  }
}
