import { UserError } from '../../domain/errors.js';
import { secretNameProblem } from '../../domain/names.js';
import { SecretValue } from '../../domain/secret-value.js';
import type { SecretEntry, SecretStore } from '../../ports/secret-store.js';
import type { CoreContext } from '../context.js';
import { obtainPassword } from '../credentials.js';
import { secretsPassword } from './secrets-password.js';
import { pendingRekeyError, withStoreLock } from './store-lock.js';

export function assertSecretName(name: string): void {
  const problem = secretNameProblem(name);
  if (problem !== undefined) throw new UserError(`secret name ${JSON.stringify(name)}: ${problem}`);
}

/**
 * A v1 secret to check a password against before writing with it: the secret being replaced if
 * there is one, else any other. This catches a mistyped password before the store ends up
 * holding secrets under two different passwords. Legacy files prove nothing (anyone can write
 * one), so they are never the witness.
 */
function passwordWitness(entries: readonly SecretEntry[], name: string): SecretEntry | undefined {
  const encrypted = entries.filter((e) => e.format === 'v1');
  return encrypted.find((e) => e.name === name) ?? encrypted[0];
}

export interface StoreSecretResult {
  readonly name: string;
  readonly replaced: boolean;
}

/**
 * Everything a secret write needs except the value: the name checked, the password obtained and
 * checked against the store. Used where the value is only known later (an action's output), so a
 * bad name or password fails before the action runs.
 */
export async function prepareSecretWrite(
  deps: { ctx: CoreContext; store: SecretStore },
  name: string,
): Promise<(value: Buffer) => Promise<StoreSecretResult>> {
  assertSecretName(name);
  // Said first: during a switch the witness may already be under the new password.
  const pending = await deps.store.pendingRekey();
  if (pending !== undefined) throw pendingRekeyError(deps.store, pending);
  const entries = await deps.store.list();
  const witness = passwordWitness(entries, name);
  // The first encrypted secret sets the store's password: ask twice, as when choosing any password.
  const password = await obtainPassword(deps.ctx, { ...secretsPassword, confirm: witness === undefined });
  if (witness !== undefined) await deps.store.read(witness.name, password);
  // Checked again under the lock: a rekey that finished since then changed the password.
  return (value) =>
    withStoreLock(deps.store, 'secrets store', async () => {
      const now = await deps.store.list();
      const current = passwordWitness(now, name);
      if (current !== undefined) await deps.store.read(current.name, password);
      await deps.store.write(new SecretValue(name, value), password);
      return { name, replaced: now.some((e) => e.name === name) };
    });
}

/** Stores (or rotates) one secret. A wrong password is refused before anything is written. */
export async function storeSecret(
  deps: { ctx: CoreContext; store: SecretStore },
  params: { name: string; value: Buffer },
): Promise<StoreSecretResult> {
  const write = await prepareSecretWrite(deps, params.name);
  return write(params.value);
}
