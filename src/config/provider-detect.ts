import { existsSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../domain/errors.js';
import { envValue, type EnvMap } from './env.js';
import { danglingLinkTarget } from './load-servers.js';

export type ProviderSelection =
  | { readonly kind: 'self-hosted'; readonly serversFile: string }
  | { readonly kind: 'hetzner'; readonly token: string };

/**
 * The one place that decides which provider a project uses: a `servers.yaml` in the project
 * folder means self-hosted (even when HCLOUD_TOKEN is set); otherwise HCLOUD_TOKEN means Hetzner
 * Cloud; otherwise the operator is told both ways to proceed.
 */
export function selectProvider(
  workingDir: string,
  env: EnvMap,
  exists: (p: string) => boolean = existsSync,
  danglingLink: (p: string) => string | undefined = danglingLinkTarget,
): ProviderSelection {
  const serversFile = path.join(workingDir, 'servers.yaml');
  if (exists(serversFile)) return { kind: 'self-hosted', serversFile };
  // A link to a file that is gone is a servers.yaml the operator meant: never fall back to the cloud.
  const target = danglingLink(serversFile);
  if (target !== undefined) {
    throw new UserError(`servers.yaml: ${serversFile} is a symbolic link to ${target}, which does not exist`, {
      hints: ['restore the file it points to, or replace the link with the file itself'],
    });
  }
  const token = envValue(env, 'HCLOUD_TOKEN');
  if (token !== undefined) return { kind: 'hetzner', token };
  throw new UserError(`no provider configured for ${workingDir}`, {
    hints: [
      `for servers you already have: create ${serversFile} (see servers.example.yaml)`,
      'for Hetzner Cloud: set HCLOUD_TOKEN in the environment or in the project\'s .env',
    ],
  });
}
