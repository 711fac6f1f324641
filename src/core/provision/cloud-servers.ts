import { UserError } from '../../domain/errors.js';
import type { LocalFiles } from '../../ports/local-files.js';
import { isCloudKeyRing, type NodeAttributes, type OwnershipLabels, type ServerFactory, type ServerInfo, type ServerProvider } from '../../ports/provider.js';
import type { Reporter } from '../../ports/reporter.js';
import { progressOf } from './provider-events.js';

export interface CloudServerOptions {
  readonly machineType: string;
  readonly location: string;
  /** The image servers boot before conversion. */
  readonly image: string;
  readonly placementGroup: string;
  /** Tags, role and tier the new servers are labelled with. */
  readonly attributes: NodeAttributes;
}

export interface CloudRequest {
  readonly names: readonly string[];
  readonly labels: OwnershipLabels;
  readonly sshKeyName: string;
  readonly publicKeyPath: string;
  readonly options: Partial<CloudServerOptions>;
}

export interface CloudServers {
  readonly servers: ServerInfo[];
  readonly created: ReadonlySet<string>;
  readonly failed: { name: string; reason: string }[];
}

/**
 * Finds or creates the named servers: the project's SSH key is registered first (servers get it
 * for root at creation), then the provider creates what is missing, labelled as this project's.
 */
export async function ensureCloudServers(
  deps: { reporter: Reporter; local: LocalFiles },
  provider: ServerProvider & ServerFactory,
  request: CloudRequest,
): Promise<CloudServers> {
  const { machineType, location, image, placementGroup, attributes } = request.options;
  const missing = [machineType === undefined ? '--machine-type (e.g. cx22)' : undefined, location === undefined ? '--location (e.g. fsn1)' : undefined].filter(
    (flag): flag is string => flag !== undefined,
  );
  if (missing.length > 0 || machineType === undefined || location === undefined) {
    throw new UserError(`${provider.name} creates the servers, so it needs ${missing.join(' and ')}`);
  }
  let publicKey: string;
  try {
    publicKey = (await deps.local.read(request.publicKeyPath)).toString('utf8').trim();
  } catch {
    throw new UserError(`cannot read ${request.publicKeyPath}, the key new servers are created with`, {
      hints: [`create it with \`nix-infra ssh-key create --name ${request.sshKeyName}\``],
    });
  }
  if (isCloudKeyRing(provider)) {
    const { added } = await provider.addSshKey(request.sshKeyName, publicKey);
    deps.reporter.emit({ kind: 'step', message: added ? `SSH key ${request.sshKeyName} registered in ${provider.name}` : `SSH key ${request.sshKeyName} is registered in ${provider.name}` });
  }
  const outcomes = await provider.ensureServers(
    {
      servers: request.names.map((name) => ({ name, machineType, location, image: image ?? 'ubuntu-24.04', ...(attributes === undefined ? {} : { attributes }) })),
      labels: request.labels,
      sshKeyName: request.sshKeyName,
      ...(placementGroup === undefined ? {} : { placementGroup }),
    },
    (event) => deps.reporter.emit(progressOf(event)),
  );
  const servers: ServerInfo[] = [];
  const created = new Set<string>();
  const failed: { name: string; reason: string }[] = [];
  for (const outcome of outcomes) {
    if (outcome.state === 'failed') {
      failed.push({ name: outcome.name, reason: outcome.reason });
      continue;
    }
    servers.push(outcome.server);
    if (outcome.state === 'created') created.add(outcome.name);
    deps.reporter.emit({ kind: 'step', host: outcome.name, message: outcome.state === 'created' ? 'server created' : 'server exists; not created again' });
  }
  return { servers, created, failed };
}
