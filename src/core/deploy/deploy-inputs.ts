import { UserError } from '../../domain/errors.js';
import { isHostnameLabel } from '../../domain/names.js';
import type { SecretValue } from '../../domain/secret-value.js';
import type { SecretStore } from '../../ports/secret-store.js';
import type { Workspace } from '../../ports/workspace.js';
import type { CoreContext } from '../context.js';
import { obtainPassword } from '../credentials.js';
import { secretsPassword } from '../secrets/secrets-password.js';
import { pendingRekeyError } from '../secrets/store-lock.js';
import { referencedSecrets } from './placeholders.js';

/** What a deploy takes from the operator, settled before any host is reached. */
export interface DeployInputs {
  /** The store's password, checked against a stored secret; undefined when the store is empty. */
  readonly password: SecretValue | undefined;
  /** The secret opened to check the password: the deploy uses it rather than decrypting it again. */
  readonly witness?: { readonly name: string; readonly value: SecretValue };
}

/**
 * Inputs first: the node files' secret references are checked against the store, and the
 * secrets password is asked once and checked (a stored secret is opened with it), all before
 * the first connection, so a typo never leaves a node half-changed (init-node had already
 * joined the node when it asked). A store with secrets always needs the password: the deploy
 * keys the hashes it keeps on the nodes with it.
 */
export async function prepareDeployInputs(
  deps: { ctx: CoreContext; store: SecretStore; nodeFileSource: Workspace },
  params: {
    nodes: readonly string[];
    /**
     * deploy / deploy-apps: every node needs nodes/<node>.nix, since without it the deploy would
     * remove the node's secrets. init-node / init-machine: optional (a node without one keeps them).
     */
    requireNodeFiles?: boolean;
  },
): Promise<DeployInputs> {
  const pending = await deps.store.pendingRekey();
  if (pending !== undefined) throw pendingRekeyError(deps.store, pending);
  const entries = await deps.store.list();
  const stored = new Set(entries.map((e) => e.name));
  // Names that are not node names are refused where the targets are resolved; none is a path here.
  for (const node of params.nodes.filter(isHostnameLabel)) {
    const rel = `nodes/${node}.nix`;
    if ((await deps.nodeFileSource.stat(rel)) === undefined) {
      if (params.requireNodeFiles !== true) continue;
      throw new UserError(`${node}: its node file ${deps.nodeFileSource.root}/${rel} does not exist; nothing was deployed`, {
        hints: [
          'without it the deploy would remove every secret from the node',
          `restore the file, or create it with \`{ ... }: { }\` to deploy no app and no secret to ${node}`,
        ],
      });
    }
    const missing = referencedSecrets((await deps.nodeFileSource.readFile(rel)).toString('utf8')).filter((name) => !stored.has(name));
    if (missing.length > 0) {
      throw new UserError(`${rel}: secret ${missing.join(', ')} is referenced but not stored; no node was touched`, {
        hints: missing.map((name) => `store it with \`nix-infra secrets store --name ${name}\``),
      });
    }
  }
  if (entries.length === 0) return { password: undefined };
  const password = await obtainPassword(deps.ctx, secretsPassword);
  // Only a v1 file proves the password: anyone can write a legacy one.
  const witness = entries.find((e) => e.format === 'v1');
  // Throws "wrong password" naming the secret; legacy-only stores have nothing to check against.
  if (witness === undefined) return { password };
  return { password, witness: { name: witness.name, value: await deps.store.read(witness.name, password) } };
}
