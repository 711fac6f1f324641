import path from 'node:path';
import { Flags } from '@oclif/core';
import { FsSecretStore } from '../../adapters/secret-store/fs-secret-store.js';
import type { ActionOutput } from '../../core/remote/action.js';
import { readEnvAssignments } from '../env-input.js';
import { performAction } from '../../core/remote/perform-action.js';
import { parseTargetList } from '../../core/targets.js';
import { UserError } from '../../domain/errors.js';
import { printResult } from '../../ui/output.js';
import { BaseCommand, type ProjectSession } from '../base-command.js';
import { controlNodeNames, openControlPlane } from '../control-plane-session.js';
import { lookupOverlayAddresses } from '../../core/control-plane/overlay.js';
import type { ServerInfo } from '../../ports/provider.js';
import { connectionFlags, mutatingFlags, targetFlag } from '../node-flags.js';
import { openNodeRun } from '../node-run.js';
import { hostResults, type HostResultsJson } from './host-results.js';
import { nodeRunOptions } from './run-options.js';

/** `fleet action` and `cluster action`. */
export abstract class ActionCommand extends BaseCommand<typeof ActionCommand> {
  static override summary = "Run an app module's action.sh on the target nodes, optionally keeping its output as a secret.";

  static override description = `Uploads app_modules/<module>/action.sh to a fresh temporary path on each node, runs it with
bash and the words of --cmd as arguments, then removes it. Every word and every --env-vars or
--env-vars-file value reaches the script literally: quotes, $(...), backticks and ";" are not
interpreted. Values may contain "=" and use [%%<node>.ipv4%%], [%%localhost.hostname%%] and
[%%localhost.ipv4%%]. --env-vars values are visible in the local process list; --env-vars-file
(NAME=value lines, "-" for stdin) keeps them off the command line.

With --save-as-secret (one target only), the script's stdout is stored in the local secret store
instead of being shown; stderr is shown. A failing action stores nothing.`;

  static override enableJsonFlag = true;

  /** Cluster actions resolve `[%%<node>.overlayIp%%]` from flannel's leases in etcd. */
  static overlay = false;

  static override flags = {
    target: targetFlag,
    'app-module': Flags.string({ summary: 'Folder under app_modules/ holding action.sh.', required: true }),
    cmd: Flags.string({ summary: 'Arguments for action.sh, e.g. "create-db mydb" (split like a shell would, never expanded).', required: true }),
    'env-vars': Flags.string({ summary: 'NAME=value pairs for the script, comma separated or repeated (visible in `ps`; prefer --env-vars-file).', multiple: true, multipleNonGreedy: true }),
    'env-vars-file': Flags.string({ summary: 'Read NAME=value lines for the script from this file, or from stdin with "-".' }),
    'save-as-secret': Flags.string({ summary: "Store the script's stdout as this secret.", aliases: ['store-as-secret'] }),
    ...connectionFlags,
    ...mutatingFlags,
  };

  async run(): Promise<HostResultsJson<ActionOutput>> {
    const session = this.openProject();
    const saveAs = this.flags['save-as-secret'];
    const env = await readEnvAssignments({ envVars: this.flags['env-vars'] ?? [], envFile: this.flags['env-vars-file'], cwd: process.cwd(), reporter: session.reporter });
    if (saveAs !== undefined && parseTargetList(this.flags.target).length !== 1) {
      throw new UserError('--save-as-secret needs exactly one target (one secret cannot hold several nodes\' output)');
    }
    const run = await openNodeRun(
      session,
      nodeRunOptions(this.flags, {
        sshKeyName: this.sshKeyName(session),
        json: this.jsonEnabled(),
        title: `action ${this.flags['app-module']}: ${this.flags.cmd}`,
      }),
    );
    const overlayIps = await this.overlayIpsIfNeeded(session, env.map((v) => v.value), run.servers).catch(async (err: unknown) => {
      await run.abort();
      throw err;
    });
    const result = await performAction(
      { ...run.deps, ctx: session.ctx, project: session.workspace, store: new FsSecretStore(path.join(session.workingDir, 'secrets')) },
      {
        targets: run.targets,
        servers: run.servers,
        appModule: this.flags['app-module'],
        cmd: this.flags.cmd,
        env,
        concurrency: run.concurrency,
        ...(overlayIps === undefined ? {} : { overlayIps }),
        ...(saveAs === undefined ? {} : { saveAs }),
      },
    ).catch(async (err: unknown) => {
      await run.abort();
      throw err;
    });
    process.exitCode = await run.finish(result.outcomes);
    if (result.savedAs !== undefined && !this.jsonEnabled()) printResult(`Output saved as secret: ${result.savedAs}`);
    return hostResults(result.outcomes);
  }

  /** Reads the overlay IPs only when a value asks for one: etcd is not needed otherwise. */
  private async overlayIpsIfNeeded(session: ProjectSession, values: readonly string[], servers: readonly ServerInfo[]): Promise<ReadonlyMap<string, string> | undefined> {
    if (!(this.ctor as unknown as typeof ActionCommand).overlay || !values.some((v) => v.includes('.overlayIp%%]'))) return undefined;
    const cp = await openControlPlane(session, {
      ctrlNodes: await controlNodeNames(session, (this.flags as { 'ctrl-nodes'?: string[] })['ctrl-nodes'], servers),
      sshKeyName: this.sshKeyName(session),
      connectTimeoutSeconds: this.flags['connect-timeout'],
      acceptHostKey: this.flags['accept-host-key'] ?? [],
    });
    try {
      const nodes = servers.flatMap((s) => (s.address === undefined ? [] : [{ name: s.name, ipv4: s.address }]));
      const lookup = await lookupOverlayAddresses(cp.cp, nodes);
      for (const skipped of lookup.skipped) session.reporter.emit({ kind: 'warning', message: `flannel lease ${skipped.key} skipped: ${skipped.reason}` });
      return new Map([...lookup.addresses].map(([node, address]) => [node, address.overlayIp]));
    } finally {
      await cp.close();
    }
  }
}
