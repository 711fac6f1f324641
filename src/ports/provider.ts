/**
 * Where servers come from. Every provider answers the same questions; what it can do beyond
 * listing is declared in `capabilities`, so commands explain instead of failing half-way.
 */
export interface ServerInfo {
  readonly name: string;
  /** Public address; undefined when it is resolved later (hybrid entries). */
  readonly address: string | undefined;
  readonly username: string;
  readonly port: number;
  /** Which provider manages the machine: `self-hosted` or `hetzner`. */
  readonly provider: string;
  readonly description?: string;
  /** Absolute path of the private key for this server, when the provider names one. */
  readonly keyPath?: string;
  /** Inventory attributes (servers.yaml keys, or Hetzner labels) that --target selects by. */
  readonly tags?: readonly string[];
  readonly role?: string;
  readonly tier?: string;
}

export interface ProviderCapabilities {
  readonly createServers: boolean;
  readonly destroyServers: boolean;
  readonly placementGroups: boolean;
  readonly cloudSshKeys: boolean;
}

export interface ServerProvider {
  /** Human-readable name, e.g. "self-hosted (servers.yaml)". */
  readonly name: string;
  readonly capabilities: ProviderCapabilities;
  listServers(): Promise<ServerInfo[]>;
}

/** What nix-infra writes on every cloud resource it creates, and checks before touching one. */
export interface OwnershipLabels {
  /** Identifies the project folder's servers among others in the same cloud project. */
  readonly project: string;
  /** `fleet` or `cluster`: which kind of node the server was created as. */
  readonly role: string;
}

export interface ServerRequest {
  readonly name: string;
  /** Provider's machine type, e.g. Hetzner `cx22`. */
  readonly machineType: string;
  /** Provider's location, e.g. Hetzner `fsn1`. */
  readonly location: string;
  /** Image the server boots before it is converted to NixOS, e.g. `ubuntu-24.04`. */
  readonly image: string;
  /** Inventory attributes written as labels on the new server. */
  readonly attributes?: NodeAttributes;
}

export interface NodeAttributes {
  readonly tags?: readonly string[];
  readonly role?: string;
  readonly tier?: string;
}

export interface EnsureServersRequest {
  readonly servers: readonly ServerRequest[];
  readonly labels: OwnershipLabels;
  /** Cloud SSH key (by name) installed for root on every created server. */
  readonly sshKeyName: string;
  /**
   * Base name of the spread placement group(s); more servers than one group holds go to
   * `<name>-2`, `<name>-3`, ... Undefined: no placement group.
   */
  readonly placementGroup?: string;
}

/** What became of one requested server. */
export type EnsureOutcome =
  /** Created by this call and running (its create actions succeeded). */
  | { readonly name: string; readonly state: 'created'; readonly server: ServerInfo }
  /** Already there, labelled as this project's: left as it is. */
  | { readonly name: string; readonly state: 'existing'; readonly server: ServerInfo }
  /** Not created or not ready; `reason` says what failed and is shown to the operator. */
  | { readonly name: string; readonly state: 'failed'; readonly reason: string };

export type DestroyOutcome =
  | { readonly name: string; readonly state: 'deleted' }
  | { readonly name: string; readonly state: 'absent' }
  /** Exists but is not labelled as this project's: never touched. */
  | { readonly name: string; readonly state: 'refused'; readonly reason: string }
  | { readonly name: string; readonly state: 'failed'; readonly reason: string };

export interface CloudSshKey {
  readonly name: string;
  /** MD5 fingerprint as the cloud reports it (`aa:bb:...`). */
  readonly fingerprint: string;
}

export type ProviderEvent =
  | { readonly kind: 'step'; readonly message: string; readonly server?: string }
  /** `what` names what is awaited, e.g. the action `start_server`; the UI adds the server. */
  | { readonly kind: 'waiting'; readonly what: string; readonly server?: string };

/**
 * A provider that can make and remove servers (Hetzner Cloud). One call handles a whole batch,
 * so the provider can share requests between servers (one listing, batched action polls).
 * Per-server failures are outcomes, not exceptions; an exception means nothing could be done
 * (bad token, API unreachable, rate limit exhausted).
 */
export interface ServerFactory {
  ensureServers(request: EnsureServersRequest, onEvent?: (event: ProviderEvent) => void): Promise<EnsureOutcome[]>;
  destroyServers(names: readonly string[], labels: OwnershipLabels, onEvent?: (event: ProviderEvent) => void): Promise<DestroyOutcome[]>;
  /** The names, among `names`, of servers that exist and carry this project's labels. */
  ownedServers(names: readonly string[], labels: OwnershipLabels): Promise<string[]>;
}

/** A provider that keeps SSH public keys for new servers (Hetzner Cloud's ssh_keys). */
export interface CloudKeyRing {
  /**
   * Registers `publicKey` under `name`. Already there with the same key: returns it unchanged
   * (`added: false`). The name taken by a different key: an error naming both fingerprints.
   */
  addSshKey(name: string, publicKey: string): Promise<{ key: CloudSshKey; added: boolean }>;
  /**
   * Removes the key called `name`, only when it is `publicKey` (so an operator cannot delete a
   * colleague's key that happens to share the name). `removed: false` when there is none.
   */
  removeSshKey(name: string, publicKey: string): Promise<{ removed: boolean }>;
}

export type AdoptOutcome =
  /** Had no nix-infra labels; now carries this project's. */
  | { readonly name: string; readonly state: 'adopted' }
  /** Already labelled as this project's: nothing changed. */
  | { readonly name: string; readonly state: 'owned' }
  | { readonly name: string; readonly state: 'absent' }
  /** Labelled by another nix-infra project: never relabelled. */
  | { readonly name: string; readonly state: 'refused'; readonly reason: string }
  | { readonly name: string; readonly state: 'failed'; readonly reason: string };

export interface AdoptResult {
  /** The confirmation was answered no: nothing was changed. */
  readonly cancelled: boolean;
  readonly outcomes: AdoptOutcome[];
}

/**
 * A provider whose servers can be given this project's ownership labels after the fact (servers
 * made by the upstream tool or by hand). `confirm` is asked once, with the names that would be
 * relabelled, after the lookup and before the first change; it is not asked when there are none.
 */
export interface ServerAdopter {
  adoptServers(names: readonly string[], labels: OwnershipLabels, confirm: (adoptable: readonly string[]) => Promise<boolean>): Promise<AdoptResult>;
}

export function isServerAdopter(provider: ServerProvider): provider is ServerProvider & ServerAdopter {
  return typeof (provider as Partial<ServerAdopter>).adoptServers === 'function';
}

export function isServerFactory(provider: ServerProvider): provider is ServerProvider & ServerFactory {
  return provider.capabilities.createServers && typeof (provider as Partial<ServerFactory>).ensureServers === 'function';
}

export function isCloudKeyRing(provider: ServerProvider): provider is ServerProvider & CloudKeyRing {
  return provider.capabilities.cloudSshKeys && typeof (provider as Partial<CloudKeyRing>).addSshKey === 'function';
}
