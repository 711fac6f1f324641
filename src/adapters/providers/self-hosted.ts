import type { Inventory } from '../../config/inventory.js';
import type { ProviderCapabilities, ServerInfo, ServerProvider } from '../../ports/provider.js';

/**
 * Servers the operator already has, listed in servers.yaml. It can neither create nor destroy
 * machines. Entries marked `provider: hetzner` have no address here; HybridProvider looks them up.
 */
export class SelfHostedProvider implements ServerProvider {
  readonly name = 'self-hosted (servers.yaml)';
  readonly capabilities: ProviderCapabilities = {
    createServers: false,
    destroyServers: false,
    placementGroups: false,
    cloudSshKeys: false,
  };

  constructor(private readonly inventory: Inventory) {}

  async listServers(): Promise<ServerInfo[]> {
    return this.inventory.servers.map((entry) => ({
      name: entry.name,
      address: entry.ip,
      username: entry.username,
      port: entry.port,
      provider: entry.provider ?? 'self-hosted',
      keyPath: entry.sshKeyPath,
      ...(entry.description === undefined ? {} : { description: entry.description }),
      ...(entry.tags === undefined ? {} : { tags: entry.tags }),
      ...(entry.role === undefined ? {} : { role: entry.role }),
      ...(entry.tier === undefined ? {} : { tier: entry.tier }),
    }));
  }
}
