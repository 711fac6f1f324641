import type { ServerInfo, ServerProvider } from '../../ports/provider.js';

export interface ServerListing {
  readonly provider: string;
  readonly servers: readonly ServerInfo[];
}

/** The servers as the detected provider sees them, in the provider's order. */
export async function listServers(deps: { provider: ServerProvider }): Promise<ServerListing> {
  return { provider: deps.provider.name, servers: await deps.provider.listServers() };
}
