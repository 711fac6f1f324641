import { setTimeout as delay } from 'node:timers/promises';
import { OperationFailed } from '../../../domain/errors.js';
import type {
  AdoptResult,
  CloudKeyRing,
  CloudSshKey,
  DestroyOutcome,
  EnsureOutcome,
  EnsureServersRequest,
  OwnershipLabels,
  ProviderCapabilities,
  ProviderEvent,
  ServerAdopter,
  ServerFactory,
  ServerInfo,
  ServerProvider,
} from '../../../ports/provider.js';
import { adoptServers } from './adopt.js';
import { field, HetznerClient, type HetznerClientOptions } from './client.js';
import { notOurs } from './labels.js';
import { toServerInfo } from './server-info.js';
import { destroyServers, ensureServers, type BatchSettings } from './servers.js';
import { addSshKey, removeSshKey } from './ssh-keys.js';

/** How batches of creates and deletes behave; every field has a default. */
export interface ProvisioningOptions {
  /** Time between action polls; at least 1000 ms (smaller values are raised), default 1000. */
  readonly pollIntervalMs?: number;
  /** How long one batch waits for its actions in total; default 10 minutes. */
  readonly waitTimeoutMs?: number;
  /** Create or delete requests in flight at once; default 5. */
  readonly concurrency?: number;
  /** Injected by tests so polling does not sleep for real; given with the client options, 429 waits use it too. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

export type HetznerProviderOptions = HetznerClientOptions & ProvisioningOptions;

/** The default budget is 3600 requests an hour, one a second: polling faster would eat it. */
const MIN_POLL_INTERVAL_MS = 1000;

/**
 * Servers in a Hetzner Cloud project: listing, creating and deleting them in batches (with
 * spread placement groups), and the cloud SSH keys they are created with.
 */
export class HetznerProvider implements ServerProvider, ServerFactory, ServerAdopter, CloudKeyRing {
  readonly name = 'Hetzner Cloud';
  readonly capabilities: ProviderCapabilities = {
    createServers: true,
    destroyServers: true,
    placementGroups: true,
    cloudSshKeys: true,
  };
  private readonly client: HetznerClient;
  private readonly batch: BatchSettings;

  /** With a ready client, `provisioning` tunes the batches; with options, both come from them. */
  constructor(options: HetznerProviderOptions | HetznerClient, provisioning: ProvisioningOptions = {}) {
    const tuning = options instanceof HetznerClient ? provisioning : { ...options, ...provisioning };
    this.client = options instanceof HetznerClient ? options : new HetznerClient(options);
    this.batch = {
      pollIntervalMs: Math.max(tuning.pollIntervalMs ?? MIN_POLL_INTERVAL_MS, MIN_POLL_INTERVAL_MS),
      timeoutMs: tuning.waitTimeoutMs ?? 10 * 60_000,
      concurrency: Math.max(1, Math.trunc(tuning.concurrency ?? 5)),
      sleep: tuning.sleep ?? ((ms) => delay(ms)),
      now: tuning.now ?? Date.now,
    };
  }

  /** Every server in the project, all pages, in the API's order (by id). */
  async listServers(): Promise<ServerInfo[]> {
    const operation = 'listing servers';
    const raw = await this.client.listAll(operation, '/servers', 'servers');
    return raw.map((server) => toServerInfo(server, operation));
  }

  /** One server by its exact name, with one filtered request instead of a full listing. */
  async findServer(name: string): Promise<ServerInfo | undefined> {
    const operation = `looking up server "${name}"`;
    const body = await this.client.request(operation, 'GET', '/servers', { query: { name } });
    const servers = field(body, 'servers');
    if (!Array.isArray(servers)) throw new OperationFailed(`${operation} failed: unexpected answer from the Hetzner API (no "servers" list)`);
    // Names are unique per project; the filter is exact, but check rather than trust it.
    const match: unknown = servers.find((server: unknown) => field(server, 'name') === name);
    return match === undefined ? undefined : toServerInfo(match, operation);
  }

  /** The public IPv4 address of the server called `name`; undefined when there is none. */
  async findServerAddress(name: string): Promise<string | undefined> {
    return (await this.findServer(name))?.address;
  }

  ensureServers(request: EnsureServersRequest, onEvent: (event: ProviderEvent) => void = () => {}): Promise<EnsureOutcome[]> {
    return ensureServers(this.client, request, this.batch, onEvent);
  }

  destroyServers(names: readonly string[], labels: OwnershipLabels, onEvent: (event: ProviderEvent) => void = () => {}): Promise<DestroyOutcome[]> {
    return destroyServers(this.client, names, labels, this.batch, onEvent);
  }

  async ownedServers(names: readonly string[], labels: OwnershipLabels): Promise<string[]> {
    const wanted = new Set(names);
    const raw = await this.client.listAll('listing servers', '/servers', 'servers');
    return raw.filter((server) => wanted.has(field(server, 'name') as string) && notOurs(server, labels.project) === undefined).map((server) => field(server, 'name') as string);
  }

  adoptServers(names: readonly string[], labels: OwnershipLabels, confirm: (adoptable: readonly string[]) => Promise<boolean>): Promise<AdoptResult> {
    return adoptServers(this.client, names, labels, this.batch.concurrency, confirm);
  }

  addSshKey(name: string, publicKey: string): Promise<{ key: CloudSshKey; added: boolean }> {
    return addSshKey(this.client, name, publicKey);
  }

  removeSshKey(name: string, publicKey: string): Promise<{ removed: boolean }> {
    return removeSshKey(this.client, name, publicKey);
  }
}
