import { SelfHostedProvider } from '../adapters/providers/self-hosted.js';
import { loadServersFile } from '../config/load-servers.js';
import { selectProvider } from '../config/provider-detect.js';
import { UserError } from '../domain/errors.js';
import type { ServerProvider } from '../ports/provider.js';
import type { ProjectSession } from './base-command.js';

/** Wires the provider that config/provider-detect.ts selected to its adapter. */
export async function openProvider(session: ProjectSession): Promise<ServerProvider> {
  const selection = selectProvider(session.workingDir, session.ctx.env);
  switch (selection.kind) {
    case 'self-hosted':
      return new SelfHostedProvider(await loadServersFile(session.workingDir));
    case 'hetzner':
      throw new UserError('HCLOUD_TOKEN is set, but this version of nix-infra has no Hetzner Cloud provider yet', {
        hints: ['list your machines in servers.yaml (see servers.example.yaml) to use them as self-hosted servers'],
      });
  }
}
