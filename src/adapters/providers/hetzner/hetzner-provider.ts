import { OperationFailed } from '../../../domain/errors.js';
import type { ProviderCapabilities, ServerInfo, ServerProvider } from '../../../ports/provider.js';
import { field, HetznerClient, type HetznerClientOptions } from './client.js';

/** A server as the API describes it, reduced to what the CLI shows and connects to. */
function toServerInfo(raw: unknown, operation: string): ServerInfo {
  const name = field(raw, 'name');
  if (typeof name !== 'string') throw new OperationFailed(`${operation} failed: the Hetzner API sent a server without a name`);
  // A server created without IPv4 has `ipv4: null`; it is listed, with no address to connect to.
  const ip = field(raw, 'public_net', 'ipv4', 'ip');
  const type = field(raw, 'server_type', 'name');
  // Newer API versions put `location` on the server itself; the datacenter always carries it.
  const location = field(raw, 'location', 'name') ?? field(raw, 'datacenter', 'location', 'name');
  const parts = [typeof type === 'string' ? type : undefined, typeof location === 'string' ? `in ${location}` : undefined].filter(
    (part): part is string => part !== undefined,
  );
  return {
    name,
    address: typeof ip === 'string' ? ip : undefined,
    username: 'root',
    port: 22,
    provider: 'hetzner',
    ...(parts.length === 0 ? {} : { description: parts.join(' ') }),
  };
}

/**
 * Servers in a Hetzner Cloud project. This first slice only reads; creating and destroying
 * servers, placement groups and cloud SSH keys arrive with the provisioning work, and
 * `capabilities` says false for them until then, so no command offers what does not work.
 */
export class HetznerProvider implements ServerProvider {
  readonly name = 'Hetzner Cloud';
  readonly capabilities: ProviderCapabilities = {
    createServers: false,
    destroyServers: false,
    placementGroups: false,
    cloudSshKeys: false,
  };
  private readonly client: HetznerClient;

  constructor(options: HetznerClientOptions | HetznerClient) {
    this.client = options instanceof HetznerClient ? options : new HetznerClient(options);
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
}
