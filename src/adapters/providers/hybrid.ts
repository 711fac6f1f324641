import { UserError } from '../../domain/errors.js';
import type { ProviderCapabilities, ServerInfo, ServerProvider } from '../../ports/provider.js';
import { forEachLimited } from '../../util/concurrency.js';

/** What the hybrid provider needs from Hetzner: one server by name (HetznerProvider has it). */
export interface ServerLookup {
  findServer(name: string): Promise<ServerInfo | undefined>;
}

/** Lookups in flight at once: fast for a fleet, gentle on the 3600-per-hour request budget. */
const LOOKUP_CONCURRENCY = 8;

/**
 * servers.yaml with some entries marked `provider: hetzner`: those get their address from Hetzner
 * Cloud by name (one filtered request each, not a full listing per entry as upstream did); every
 * other field still comes from servers.yaml. Like the self-hosted provider it creates nothing.
 */
export class HybridProvider implements ServerProvider {
  readonly name: string;
  readonly capabilities: ProviderCapabilities;

  constructor(
    private readonly inventory: ServerProvider,
    private readonly hetzner: ServerLookup,
    private readonly concurrency = LOOKUP_CONCURRENCY,
  ) {
    this.name = `${inventory.name}, addresses of hetzner entries from Hetzner Cloud`;
    this.capabilities = inventory.capabilities;
  }

  async listServers(): Promise<ServerInfo[]> {
    const servers = await this.inventory.listServers();
    const problems: { index: number; name: string; reason: string }[] = [];
    await forEachLimited(servers, this.concurrency, async (entry, index) => {
      if (entry.provider !== 'hetzner' || entry.address !== undefined) return;
      const found = await this.hetzner.findServer(entry.name);
      if (found === undefined) problems.push({ index, name: entry.name, reason: 'not found in Hetzner Cloud' });
      else if (found.address === undefined) problems.push({ index, name: entry.name, reason: 'has no public IPv4 address in Hetzner Cloud' });
      else servers[index] = { ...entry, address: found.address };
    });
    // Lookups finish in any order; report in the file's order so the message is stable.
    problems.sort((a, b) => a.index - b.index);
    const [first, ...rest] = problems;
    if (first !== undefined) {
      throw new UserError(`servers.yaml: servers.${first.name}: ${first.reason}`, {
        hints: [
          ...rest.map((problem) => `servers.${problem.name}: ${problem.reason}`),
          'the entry name must match the server name in the Hetzner Cloud project of HCLOUD_TOKEN',
        ],
      });
    }
    return servers;
  }
}
