import { UserError } from '../../domain/errors.js';
import { isAttributeWord, isHostnameLabel } from '../../domain/names.js';
import type { LocalFiles } from '../../ports/local-files.js';
import { isServerFactory, type NodeAttributes, type OwnershipLabels, type ServerInfo, type ServerProvider } from '../../ports/provider.js';
import type { HostTarget } from '../../ports/remote-host.js';
import type { Workspace } from '../../ports/workspace.js';
import { checkInfectSource, checkMutationName, checkNixosVersion, type InfectSource } from '../../remote/nixos-install.js';
import { substitutePlaceholders } from '../placeholders.js';
import type { HostOutcome } from '../remote/fanout.js';
import { publicKeyOf } from '../remote/node-identity.js';
import { resolveTargets } from '../targets.js';
import type { ConversionDeps, ConversionResult } from './convert-host.js';
import { convertNodes } from './convert-nodes.js';
import { ensureCloudServers, type CloudServerOptions } from './cloud-servers.js';

export interface ProvisionDeps extends ConversionDeps {
  readonly provider: ServerProvider;
  readonly project: Workspace;
  readonly local: LocalFiles;
}

export interface ProvisionParams {
  readonly nodeNames: readonly string[];
  readonly labels: OwnershipLabels;
  readonly nixosVersion: string;
  readonly source: InfectSource;
  readonly mutation?: string;
  /** Machine type, location, image, placement group: used when the provider creates servers. */
  readonly cloud: Partial<CloudServerOptions>;
  /** The project's key, `ssh/<name>`: registered in the cloud and used for servers without their own. */
  readonly sshKeyName: string;
  readonly installScript: Buffer;
  readonly concurrency: number;
  readonly retries: number;
  readonly rebootTimeoutMs: number;
  readonly rebootPollMs: number;
}

export interface ProvisionedNode {
  /** `created` by this run, `existing` in the cloud already, or `listed` in servers.yaml. */
  readonly server: 'created' | 'existing' | 'listed';
  readonly conversion?: ConversionResult;
}

function checkNodeNames(names: readonly string[]): string[] {
  const unique = [...new Set(names)];
  if (unique.length === 0) throw new UserError('--node-names is empty', { hints: ['e.g. --node-names "web1 web2"'] });
  const invalid = unique.filter((name) => !isHostnameLabel(name));
  if (invalid.length > 0) {
    throw new UserError(`--node-names: not a valid node name: ${invalid.map((n) => JSON.stringify(n)).join(', ')}`, {
      hints: ['node names become hostnames: 1-63 letters, digits and "-", not starting or ending with "-"'],
    });
  }
  return unique;
}

/**
 * Makes the named nodes exist and run NixOS: a provider that creates servers (Hetzner) finds or
 * creates them first; servers.yaml lists them. Then every node is converted (machines already on
 * NixOS are left alone), with retry rounds for failures that may pass. Every input is checked
 * before the first server is created or the first machine touched.
 */
export async function provisionNodes(deps: ProvisionDeps, params: ProvisionParams): Promise<HostOutcome<ProvisionedNode>[]> {
  const names = checkNodeNames(params.nodeNames);
  const nixosVersion = checkNixosVersion(params.nixosVersion);
  const source = checkInfectSource(params.source);
  const mutation = params.mutation === undefined ? undefined : checkMutationName(params.mutation);
  checkAttributes(params.cloud.attributes);
  if ((await deps.project.stat('configuration.nix')) === undefined) {
    throw new UserError(`configuration.nix: not found in ${deps.project.root}`, { hints: ['create the project with `nix-infra init`, which writes it'] });
  }
  const configurationTemplate = (await deps.project.readFile('configuration.nix')).toString('utf8');
  const defaultKeyPath = deps.project.resolve(`ssh/${params.sshKeyName}`);

  const failedEarly: HostOutcome<ProvisionedNode>[] = [];
  const origin = new Map<string, ProvisionedNode['server']>();
  let servers: readonly ServerInfo[];
  let created: ReadonlySet<string> = new Set();
  if (isServerFactory(deps.provider)) {
    const cloud = await ensureCloudServers(deps, deps.provider, {
      names,
      labels: params.labels,
      sshKeyName: params.sshKeyName,
      publicKeyPath: `${defaultKeyPath}.pub`,
      options: params.cloud,
    });
    servers = cloud.servers;
    created = cloud.created;
    failedEarly.push(...cloud.failed.map((f) => ({ host: f.name, ok: false, error: f.reason, durationMs: 0 })));
    for (const server of servers) origin.set(server.name, created.has(server.name) ? 'created' : 'existing');
  } else {
    const attributes = params.cloud.attributes;
    const ignored = (['machineType', 'location', 'placementGroup', 'attributes'] as const).filter((key) => params.cloud[key] !== undefined && (key !== 'attributes' || hasAttributes(attributes)));
    if (ignored.length > 0) {
      deps.reporter.emit({ kind: 'warning', message: `${deps.provider.name} creates no servers: ${ignored.map(flagName).join(', ')} ignored; the nodes must be in servers.yaml` });
    }
    servers = await deps.provider.listServers();
    for (const name of names) origin.set(name, 'listed');
  }

  const ready = names.filter((name) => origin.has(name));
  const targets = ready.length === 0 ? [] : resolveTargets(servers, ready, defaultKeyPath);
  // A new server may have an address an older machine had: its pinned key is not this one's.
  for (const target of targets) if (created.has(target.name)) await deps.connector.forgetHostKey(target);

  const plans = new Map<string, string>();
  for (const target of targets) plans.set(target.name, await renderConfiguration(deps, configurationTemplate, target, nixosVersion));
  const viaHetzner = new Set(servers.filter((s) => s.provider === 'hetzner').map((s) => s.name));

  const conversions = await convertNodes(deps, {
    targets,
    concurrency: params.concurrency,
    retries: params.retries,
    planFor: (target) => ({
      configuration: plans.get(target.name) as string,
      installScript: params.installScript,
      install: {
        nixosVersion,
        source,
        ...(mutation === undefined ? {} : { mutation }),
        // Static addresses and routes always: Hetzner's gateway is only reachable by an on-link
        // route, and configuration.nix imports networking.nix for the address etcd binds to.
        staticNetwork: true,
        ...(viaHetzner.has(target.name) ? { cloud: 'hetznercloud' } : {}),
      },
      rebootTimeoutMs: params.rebootTimeoutMs,
      rebootPollMs: params.rebootPollMs,
    }),
  });

  const byName = new Map<string, HostOutcome<ProvisionedNode>>();
  for (const outcome of failedEarly) byName.set(outcome.host, outcome);
  for (const outcome of conversions) {
    const server = origin.get(outcome.host) ?? 'listed';
    const { value, ...rest } = outcome;
    byName.set(outcome.host, { ...rest, value: { server, ...(value === undefined ? {} : { conversion: value }) } });
  }
  return names.map((name) => byName.get(name) as HostOutcome<ProvisionedNode>);
}

/** Tags, role and tier become labels: words only, checked before any server is created. */
function checkAttributes(attributes: NodeAttributes | undefined): void {
  const words: [string, string][] = [
    ...(attributes?.tags ?? []).map((tag): [string, string] => ['--tag', tag]),
    ...(attributes?.role === undefined ? [] : [['--role', attributes.role] as [string, string]]),
    ...(attributes?.tier === undefined ? [] : [['--tier', attributes.tier] as [string, string]]),
  ];
  const bad = words.find(([, value]) => !isAttributeWord(value));
  if (bad !== undefined) {
    throw new UserError(`${bad[0]} ${JSON.stringify(bad[1])}: not a valid word`, { hints: ['1-63 letters, digits, ".", "_" or "-", starting and ending with a letter or digit'] });
  }
}

function hasAttributes(attributes: NodeAttributes | undefined): boolean {
  return (attributes?.tags?.length ?? 0) > 0 || attributes?.role !== undefined || attributes?.tier !== undefined;
}

function flagName(key: 'machineType' | 'location' | 'placementGroup' | 'attributes'): string {
  return { machineType: '--machine-type', location: '--location', placementGroup: '--placement-group', attributes: '--role/--tier/--tag (set them in servers.yaml)' }[key];
}

/** configuration.nix for one node: nodeName, nixVersion and sshKey (the node's public key). */
async function renderConfiguration(deps: ProvisionDeps, template: string, target: HostTarget, nixosVersion: string): Promise<string> {
  const publicKey = await publicKeyOf(deps.local, target);
  const values = new Map([
    ['nodeName', target.name],
    ['nixVersion', nixosVersion],
    ['sshKey', publicKey],
  ]);
  // During provisioning only these exist; deploy fills in the rest of the forms later.
  return substitutePlaceholders(template, (key) => values.get(key), 'configuration.nix', '[%%nodeName%%], [%%nixVersion%%], [%%sshKey%%]');
}
