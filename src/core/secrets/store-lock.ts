import { UserError } from '../../domain/errors.js';
import type { PendingRekey, SecretStore, StoreLock } from '../../ports/secret-store.js';

export function pendingRekeyError(store: SecretStore, pending: PendingRekey): UserError {
  const state =
    pending === 'committed'
      ? 'it had switched to the new password but not finished moving the files'
      : 'it had not switched yet: the store is still under the old password';
  return new UserError(`${store.location}: an interrupted \`secrets rekey\` is pending (${state})`, {
    hints: [
      pending === 'committed'
        ? 'run `nix-infra secrets rekey` to finish it (no password needed), then use the NEW password as SECRETS_PASS'
        : 'run `nix-infra secrets rekey` again: it rolls the unfinished attempt back and re-keys',
    ],
  });
}

/** The store's lock, refused (and released) while an interrupted rekey is pending. */
export async function lockStore(store: SecretStore, purpose: string): Promise<StoreLock> {
  const lock = await store.lock(purpose);
  const pending = await store.pendingRekey().catch(async (err: unknown) => {
    await lock.release();
    throw err;
  });
  if (pending !== undefined) {
    await lock.release();
    throw pendingRekeyError(store, pending);
  }
  return lock;
}

/**
 * Runs `work` holding the store's lock. Unless the caller is the rekey itself, an interrupted
 * rekey stops it first: reading or writing while the store is between two passwords could deploy
 * or store a value under the wrong one.
 */
export async function withStoreLock<T>(
  store: SecretStore,
  purpose: string,
  work: () => Promise<T>,
  options: { recovering?: boolean } = {},
): Promise<T> {
  const lock = await store.lock(purpose);
  try {
    if (options.recovering !== true) {
      const pending = await store.pendingRekey();
      if (pending !== undefined) throw pendingRekeyError(store, pending);
    }
    return await work();
  } finally {
    await lock.release();
  }
}
