import type { SecretEntry, SecretStore } from '../../ports/secret-store.js';

/** Names, formats and times of the stored secrets; values are never read. */
export async function listSecrets(deps: { store: SecretStore }): Promise<SecretEntry[]> {
  return deps.store.list();
}
