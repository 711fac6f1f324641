import { UserError } from '../../domain/errors.js';
import { checkSshKeyName } from '../../domain/names.js';
import type { Reporter } from '../../ports/reporter.js';
import type { SshKeyFactory, SshKeyType } from '../../ports/ssh-keys.js';
import type { Workspace } from '../../ports/workspace.js';

export function sshKeyPaths(name: string): { privateKey: string; publicKey: string } {
  return { privateKey: `ssh/${name}`, publicKey: `ssh/${name}.pub` };
}


export function checkEmail(email: string): void {
  // An e-mail only ends up as the key comment and in certificate subjects; reject what would
  // break either (whitespace, control characters, "/" which openssl treats as a separator).
  if (!/^[^\s/@]+@[^\s/@]+$/.test(email)) {
    throw new UserError(`e-mail ${JSON.stringify(email)} is not an e-mail address`);
  }
}

export interface CreateSshKeyParams {
  readonly name: string;
  readonly email: string;
  readonly type: SshKeyType;
}

/**
 * Creates `ssh/<name>` (0600) and `ssh/<name>.pub` unless the private key exists: an existing
 * key is never replaced, since nodes and cloud accounts already trust it.
 * Returns whether a key was created.
 */
export async function createSshKey(
  deps: { workspace: Workspace; keys: SshKeyFactory; reporter: Reporter },
  params: CreateSshKeyParams,
): Promise<boolean> {
  checkSshKeyName(params.name);
  checkEmail(params.email);
  const paths = sshKeyPaths(params.name);
  await deps.workspace.ensureDir('ssh', 0o700);
  if ((await deps.workspace.stat(paths.privateKey)) !== undefined) {
    deps.reporter.emit({ kind: 'skipped', path: paths.privateKey, reason: 'already exists' });
    return false;
  }
  const pair = await deps.keys.generate(params.type, params.email);
  // Public key first: if we stop in between, the next run still sees no private key and retries.
  await deps.workspace.writeFile(paths.publicKey, `${pair.publicKey}\n`, { mode: 0o644 });
  const created = await deps.workspace.writeFile(paths.privateKey, pair.privateKey.reveal(), { mode: 0o600, exclusive: true });
  deps.reporter.emit(
    created ? { kind: 'created', path: paths.privateKey, what: `${params.type} SSH key` } : { kind: 'skipped', path: paths.privateKey, reason: 'already exists' },
  );
  return created;
}
