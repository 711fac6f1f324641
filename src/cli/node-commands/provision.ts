import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Flags } from '@oclif/core';
import { NodeLocalFiles } from '../../adapters/node-local-files.js';
import { envValue } from '../../config/env.js';
import { provisionNodes, type ProvisionedNode } from '../../core/provision/provision.js';
import { parseTargetList } from '../../core/targets.js';
import { ExitCode, Interrupted, UserError } from '../../domain/errors.js';
import { checkSshKeyName } from '../../domain/names.js';
import type { Reporter } from '../../ports/reporter.js';
import { DEFAULT_INFECT_REF, DEFAULT_INFECT_SOURCE } from '../../remote/nixos-install.js';
import { summarise } from '../../ui/host-summary.js';
import type { HostEnd, ListrHostReporter } from '../../ui/listr-host-reporter.js';
import { canDrawTaskList, printNote } from '../../ui/output.js';
import { BaseCommand, type ProjectSession } from '../base-command.js';
import { connectionFlags } from '../node-flags.js';
import { createConnector, interruptible } from '../node-run.js';
import { openProvider } from '../open-provider.js';
import { ownershipLabels } from '../project-labels.js';
import { templatesDir } from '../package-paths.js';
import { hostResults, type HostResultsJson } from './host-results.js';
import { wholeNumberFlag } from '../numeric-flag.js';

/** `fleet provision`, `cluster provision` and the flat `provision`: the role is the only difference. */
export abstract class ProvisionCommand extends BaseCommand<typeof ProvisionCommand> {
  /** The `nix-infra/role` label on created servers. */
  static role: 'fleet' | 'cluster';

  static override summary = 'Create the nodes (Hetzner Cloud) or take them from servers.yaml, and convert them to NixOS.';

  static override description = `With HCLOUD_TOKEN and no servers.yaml, servers that do not exist yet are created (labelled as
this project's, in spread placement groups when --placement-group is given); existing ones are
reused, never created twice. Every node then gets configuration.nix (with nodeName, sshKey and
nixVersion filled in) and is converted with nixos-infect from a pinned commit: the CLI waits for
the reboot (a new boot id), checks /etc/NIXOS and nixos-version, pins the new SSH host key, and
runs the first nixos-rebuild switch. Machines already on NixOS are left alone; hosts whose
conversion failed in a way that may pass are retried (--retries), the others are reported.`;

  static override enableJsonFlag = true;

  static override flags = {
    'node-names': Flags.string({ summary: 'Nodes to provision: "a b", "a,b", or the flag repeated.', required: true, multiple: true, multipleNonGreedy: true }),
    'nixos-version': Flags.string({ summary: 'NixOS release to install, e.g. 25.05.', required: true }),
    'machine-type': Flags.string({ summary: 'Hetzner server type for new servers, e.g. cx22.', helpGroup: 'CLOUD' }),
    location: Flags.string({ summary: 'Hetzner location for new servers, e.g. fsn1.', helpGroup: 'CLOUD' }),
    image: Flags.string({ summary: 'Image new servers boot before the conversion.', default: 'ubuntu-24.04', helpGroup: 'CLOUD' }),
    'placement-group': Flags.string({ summary: 'Spread placement group for new servers (split into <name>-2, ... past 10).', helpGroup: 'CLOUD' }),
    role: Flags.string({ summary: 'Role label for new servers (--target role:NAME selects it).', helpGroup: 'CLOUD' }),
    tier: Flags.string({ summary: 'Tier label for new servers, e.g. test or prod (--target tier:NAME).', helpGroup: 'CLOUD' }),
    tag: Flags.string({ summary: 'Tag label for new servers (--target @TAG); repeatable.', multiple: true, multipleNonGreedy: true, helpGroup: 'CLOUD' }),
    mutation: Flags.string({ summary: 'Convert in place with mutations/<name> of the nixos-infect source instead; no reboot.', helpGroup: 'CONVERSION' }),
    'nixos-infect-source': Flags.string({ summary: `Raw-file base URL of nixos-infect (default NIXOS_INFECT_SOURCE, else ${DEFAULT_INFECT_SOURCE}).`, helpGroup: 'CONVERSION' }),
    'nixos-infect-ref': Flags.string({ summary: 'Commit of nixos-infect to run (default NIXOS_INFECT_REF, else a pinned commit).', helpGroup: 'CONVERSION' }),
    'nixos-infect-sha256': Flags.string({ summary: 'Expected SHA-256 of the script (default NIXOS_INFECT_SHA256); checked on the node.', helpGroup: 'CONVERSION' }),
    'reboot-timeout': wholeNumberFlag({ summary: 'Seconds a machine may take to come back from its reboot.', default: 900, min: 10, max: 86400, helpGroup: 'CONVERSION' }),
    retries: wholeNumberFlag({ summary: 'Extra rounds for hosts whose conversion failed in a way that may pass.', default: 2, min: 0, max: 10, helpGroup: 'CONVERSION' }),
    ...connectionFlags,
    'connect-timeout': wholeNumberFlag({
      summary: 'Seconds to wait for SSH on each node (new servers take a while to start sshd).',
      default: 300,
      min: 1,
      max: 3600,
      helpGroup: 'CONNECTION',
    }),
  };

  async run(): Promise<HostResultsJson<ProvisionedNode>> {
    const session = this.openProject();
    const role = (this.ctor as unknown as typeof ProvisionCommand).role;
    const sshKeyName = this.sshKeyName(session);
    if (sshKeyName === undefined) throw new UserError('no SSH key named', { hints: ['pass --ssh-key <name> or set SSH_KEY (the key is ssh/<name>)'] });
    checkSshKeyName(sshKeyName);
    const names = parseTargetList(this.flags['node-names']);
    const env = session.ctx.env;
    const local = new NodeLocalFiles(session.workingDir);
    const provider = await openProvider(session);
    const labels = await ownershipLabels(session, sshKeyName, role);
    const stop = interruptible(
      createConnector(session, {
        concurrency: this.flags.concurrency,
        connectTimeoutSeconds: this.flags['connect-timeout'],
        acceptHostKey: this.flags['accept-host-key'] ?? [],
      }),
    );
    const connector = stop.connector;
    const display = await openDisplay(session, names, `provision NixOS ${this.flags['nixos-version']}`, this.jsonEnabled());
    const sha256 = this.flags['nixos-infect-sha256'] ?? envValue(env, 'NIXOS_INFECT_SHA256');
    const mutation = this.flags.mutation;
    let outcomes;
    try {
      outcomes = await provisionNodes(
        { connector, reporter: display.reporter, now: session.ctx.now, sleep: (ms) => interruptibleSleep(ms, stop.signal), provider, project: session.workspace, local },
        {
          nodeNames: names,
          labels,
          nixosVersion: this.flags['nixos-version'],
          source: {
            base: this.flags['nixos-infect-source'] ?? envValue(env, 'NIXOS_INFECT_SOURCE') ?? DEFAULT_INFECT_SOURCE,
            ref: this.flags['nixos-infect-ref'] ?? envValue(env, 'NIXOS_INFECT_REF') ?? DEFAULT_INFECT_REF,
            ...(sha256 === undefined ? {} : { sha256 }),
          },
          ...(mutation === undefined ? {} : { mutation }),
          cloud: {
            ...(this.flags['machine-type'] === undefined ? {} : { machineType: this.flags['machine-type'] }),
            ...(this.flags.location === undefined ? {} : { location: this.flags.location }),
            ...(this.flags['placement-group'] === undefined ? {} : { placementGroup: this.flags['placement-group'] }),
            image: this.flags.image,
            attributes: {
              ...(this.flags.tag === undefined ? {} : { tags: parseTargetList(this.flags.tag) }),
              ...(this.flags.role === undefined ? {} : { role: this.flags.role }),
              ...(this.flags.tier === undefined ? {} : { tier: this.flags.tier }),
            },
          },
          sshKeyName,
          installScript: await readFile(path.join(templatesDir, 'provision', 'install-nixos.sh')),
          concurrency: this.flags.concurrency,
          retries: this.flags.retries,
          rebootTimeoutMs: this.flags['reboot-timeout'] * 1000,
          rebootPollMs: 2000,
        },
      );
    } catch (err) {
      stop.dispose();
      await connector.closeAll();
      await display.abort();
      throw stop.interrupted ? new Interrupted() : err;
    }
    stop.dispose();
    await connector.closeAll();
    await display.finish(outcomes);
    printNote(summarise(outcomes));
    process.exitCode = stop.interrupted ? ExitCode.interrupted : outcomes.every((o) => o.ok) ? ExitCode.ok : ExitCode.failed;
    return hostResults(outcomes);
  }
}

/** A poll's pause that Ctrl-C cuts short: a host waiting for its reboot then fails as interrupted. */
async function interruptibleSleep(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch {
    throw new Interrupted();
  }
}

/** listr2 task list on a terminal, plain `<node>: <line>` lines otherwise, nothing extra with --json. */
async function openDisplay(
  session: ProjectSession,
  names: readonly string[],
  title: string,
  json: boolean,
): Promise<{ reporter: Reporter; finish: (outcomes: readonly HostEnd[]) => Promise<void>; abort: () => Promise<void> }> {
  const listr: ListrHostReporter | undefined =
    !json && canDrawTaskList() ? new (await import('../../ui/listr-host-reporter.js')).ListrHostReporter([...names], title) : undefined;
  return {
    reporter: listr ?? session.reporter,
    finish: async (outcomes) => listr?.finish(outcomes),
    abort: async () => listr?.abort('stopped'),
  };
}
