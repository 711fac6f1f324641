import { readFile } from 'node:fs/promises';
import { envValue } from '../config/env.js';
import { projectLabel } from '../core/provision/project-label.js';
import { UserError } from '../domain/errors.js';
import { checkSshKeyName } from '../domain/names.js';
import type { OwnershipLabels } from '../ports/provider.js';
import type { ProjectSession } from './base-command.js';

/**
 * The labels this project's servers carry: NIX_INFRA_PROJECT when set, else derived from
 * ssh/<key>.pub (the key every checkout of the project shares).
 */
export async function ownershipLabels(session: ProjectSession, sshKeyName: string | undefined, role: string): Promise<OwnershipLabels> {
  const explicit = envValue(session.ctx.env, 'NIX_INFRA_PROJECT');
  if (explicit !== undefined) return { project: projectLabel(explicit, ''), role };
  if (sshKeyName === undefined) {
    throw new UserError('no SSH key named', { hints: ['pass --ssh-key <name> or set SSH_KEY (the key is ssh/<name>)'] });
  }
  checkSshKeyName(sshKeyName);
  const file = session.workspace.resolve(`ssh/${sshKeyName}.pub`);
  const publicKey = await readFile(file, 'utf8').catch(() => {
    throw new UserError(`cannot read ${file}: the project's label is derived from it`, {
      hints: ['create the key with `nix-infra ssh-key create`, or set NIX_INFRA_PROJECT to the label the servers carry'],
    });
  });
  return { project: projectLabel(undefined, publicKey), role };
}
