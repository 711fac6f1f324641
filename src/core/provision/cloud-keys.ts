import type { LocalFiles } from '../../ports/local-files.js';
import { isCloudKeyRing, type ServerProvider } from '../../ports/provider.js';
import { UserError } from '../../domain/errors.js';

/** What `ssh-key add|remove` did, as one sentence for the operator. */
export interface CloudKeyResult {
  readonly changed: boolean;
  readonly message: string;
}

async function readPublicKey(local: LocalFiles, path: string, name: string): Promise<string> {
  try {
    return (await local.read(path)).toString('utf8').trim();
  } catch {
    throw new UserError(`cannot read ${path}`, { hints: [`create the key with \`nix-infra ssh-key create --name ${name}\``] });
  }
}

/** Registers ssh/<name>.pub with the provider; self-hosted projects manage keys by hand. */
export async function addCloudKey(deps: { provider: ServerProvider; local: LocalFiles }, name: string, publicKeyPath: string): Promise<CloudKeyResult> {
  if (!isCloudKeyRing(deps.provider)) {
    return { changed: false, message: `${deps.provider.name}: SSH keys are managed by hand on each server (authorized_keys); nothing to register` };
  }
  const { added, key } = await deps.provider.addSshKey(name, await readPublicKey(deps.local, publicKeyPath, name));
  return {
    changed: added,
    message: added ? `SSH key ${name} added to ${deps.provider.name} (${key.fingerprint})` : `SSH key ${name} is already in ${deps.provider.name} (${key.fingerprint})`,
  };
}

/** Removes the key called <name> from the provider, only if it is this project's ssh/<name>.pub. */
export async function removeCloudKey(deps: { provider: ServerProvider; local: LocalFiles }, name: string, publicKeyPath: string): Promise<CloudKeyResult> {
  if (!isCloudKeyRing(deps.provider)) {
    return { changed: false, message: `${deps.provider.name}: SSH keys are managed by hand on each server (authorized_keys); nothing to remove` };
  }
  const { removed } = await deps.provider.removeSshKey(name, await readPublicKey(deps.local, publicKeyPath, name));
  return { changed: removed, message: removed ? `SSH key ${name} removed from ${deps.provider.name}` : `no SSH key named ${name} in ${deps.provider.name}; nothing to remove` };
}
