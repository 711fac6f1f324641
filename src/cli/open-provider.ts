import { HetznerProvider } from '../adapters/providers/hetzner/hetzner-provider.js';
import { HybridProvider } from '../adapters/providers/hybrid.js';
import { SelfHostedProvider } from '../adapters/providers/self-hosted.js';
import { envValue } from '../config/env.js';
import { loadServersFile } from '../config/load-servers.js';
import { selectProvider } from '../config/provider-detect.js';
import { UserError } from '../domain/errors.js';
import type { ServerProvider } from '../ports/provider.js';
import type { ProjectSession } from './base-command.js';

/** Wires the provider that config/provider-detect.ts selected to its adapter. */
export async function openProvider(session: ProjectSession): Promise<ServerProvider> {
  const selection = selectProvider(session.workingDir, session.ctx.env);
  const endpoint = envValue(session.ctx.env, 'HCLOUD_ENDPOINT');
  switch (selection.kind) {
    case 'self-hosted': {
      const inventory = await loadServersFile(session.workingDir);
      const selfHosted = new SelfHostedProvider(inventory);
      const hybrid = inventory.servers.filter((s) => s.provider === 'hetzner').map((s) => s.name);
      if (hybrid.length === 0) return selfHosted;
      const token = envValue(session.ctx.env, 'HCLOUD_TOKEN');
      if (token === undefined) {
        throw new UserError(`servers.yaml: ${hybrid.map((n) => `servers.${n}`).join(', ')}: provider hetzner needs HCLOUD_TOKEN`, {
          hints: ['set HCLOUD_TOKEN in the environment or the project\'s .env, or give those entries an ip'],
        });
      }
      return new HybridProvider(selfHosted, new HetznerProvider({ token, endpoint }));
    }
    case 'hetzner':
      return new HetznerProvider({ token: selection.token, endpoint });
  }
}
