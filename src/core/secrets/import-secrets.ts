import { UserError } from '../../domain/errors.js';
import { isLegacyFormat, type SecretStore } from '../../ports/secret-store.js';
import type { CoreContext } from '../context.js';
import { obtainPassword } from '../credentials.js';
import { secretsPassword } from './secrets-password.js';
import { withStoreLock } from './store-lock.js';

export interface ImportResult {
  /** Converted to v1 under SECRETS_PASS, with the format each had. */
  readonly imported: readonly { readonly name: string; readonly from: string }[];
}

/**
 * The explicit step that accepts legacy (Dart tool) files: each one named (or every legacy file)
 * is read and stored again in v1 under SECRETS_PASS. The password is checked against a v1 secret
 * first, so the store stays under one password; with none yet it is asked twice.
 */
export async function importSecrets(deps: { ctx: CoreContext; store: SecretStore }, params: { names: readonly string[] }): Promise<ImportResult> {
  const { store } = deps;
  return withStoreLock(store, 'secrets import', async () => {
    const entries = await store.list();
    for (const name of params.names) {
      const entry = entries.find((e) => e.name === name);
      if (entry === undefined) throw new UserError(`secret ${name} not found in ${store.location}`);
      if (!isLegacyFormat(entry.format)) throw new UserError(`secrets/${name} is ${entry.format}, not a legacy file; nothing to import`);
    }
    const legacy = entries.filter((e) => isLegacyFormat(e.format) && (params.names.length === 0 || params.names.includes(e.name)));
    if (legacy.length === 0) return { imported: [] };
    const witness = entries.find((e) => e.format === 'v1');
    const password = await obtainPassword(deps.ctx, { ...secretsPassword, confirm: witness === undefined });
    if (witness !== undefined) await store.read(witness.name, password);
    // Everything read before the first write: one bad file leaves the store as it was.
    const values = [];
    for (const entry of legacy) values.push(await store.read(entry.name, password, { allowLegacy: true }));
    for (const value of values) await store.write(value, password);
    return { imported: legacy.map((e) => ({ name: e.name, from: e.format })) };
  });
}
