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
