import type { ServerInfo, ServerProvider } from '../../ports/provider.js';
import { selectNodes } from '../selectors/resolve.js';

export interface ServerListing {
  readonly provider: string;
  readonly servers: readonly ServerInfo[];
}

/**
 * The servers as the detected provider sees them, in the provider's order; with selectors, only
 * the ones they select, in selection order. Nothing connects to a server.
 */
export async function listServers(deps: { provider: ServerProvider }, selectors: readonly string[] = []): Promise<ServerListing> {
  const servers = await deps.provider.listServers();
  if (selectors.length === 0) return { provider: deps.provider.name, servers };
  const byName = new Map(servers.map((server) => [server.name, server]));
  const { names } = selectNodes(servers, selectors);
  return { provider: deps.provider.name, servers: names.map((name) => byName.get(name) as ServerInfo) };
}
