import { UserError } from '../../domain/errors.js';
import type { SecretValue } from '../../domain/secret-value.js';
import { isLegacyFormat, type SecretEntry, type SecretStore } from '../../ports/secret-store.js';
import type { CoreContext } from '../context.js';
import { obtainPassword } from '../credentials.js';
import { newSecretsPassword, secretsPassword } from './secrets-password.js';
import { withStoreLock } from './store-lock.js';

export interface RekeyResult {
  /** Every secret now encrypted under the new password. */
  readonly rekeyed: readonly string[];
  /** Those among them that were in an upstream format before. */
  readonly migrated: readonly string[];
  /**
   * An earlier, interrupted rekey found first: `finished` (it had switched; this run only
   * completed it and did nothing else) or `rolled-back` (it had not; this run then re-keyed).
   */
  readonly recovered?: 'finished' | 'rolled-back';
  /** Every secret was already under the new password (a rerun after a completed switch). */
  readonly alreadyDone?: boolean;
}

/** Whether every secret is v1 and decrypts with `password`. */
async function allUnder(store: SecretStore, entries: readonly SecretEntry[], password: SecretValue): Promise<boolean> {
  if (entries.length === 0 || entries.some((e) => e.format !== 'v1')) return false;
  try {
    for (const entry of entries) await store.read(entry.name, password);
    return true;
  } catch {
    return false;
  }
}

/**
 * Re-encrypts every secret under a new password, migrating upstream files to the current format.
 * All secrets are read (and so checked) before anything is written, and the switch is
 * all-or-nothing (SecretStore.replaceAll), all under the store lock. An interrupted earlier run
 * is finished or rolled back first.
 */
export async function rekeySecrets(deps: { ctx: CoreContext; store: SecretStore }): Promise<RekeyResult> {
  const { store } = deps;
  return withStoreLock(
    store,
    'secrets rekey',
    async () => {
      const recovered = await store.recoverRekey();
      // The store is already under the new password: re-keying again would need it as the old one.
      if (recovered === 'finished') return { rekeyed: [], migrated: [], recovered };

      const entries = await store.list();
      const unreadable = entries.filter((e) => e.format === 'unknown');
      if (unreadable.length > 0) {
        throw new UserError(`cannot re-key: ${unreadable.map((e) => `secrets/${e.name}`).join(', ')} not in a known format`, {
          hints: ['move those files out of secrets/ (or restore them from a backup) and run the command again'],
        });
      }
      const needsOldPassword = entries.some((e) => e.format === 'v1' || e.format === 'legacy-openssl');
      const oldPassword = needsOldPassword ? await obtainPassword(deps.ctx, secretsPassword) : undefined;
      const newPassword = await obtainPassword(deps.ctx, newSecretsPassword);

      // Rekey is one of the explicit imports: legacy files are converted here.
      const values: SecretValue[] = [];
      try {
        for (const entry of entries) values.push(await store.read(entry.name, oldPassword, { allowLegacy: true }));
      } catch (error) {
        // A run that was stopped after its switch had completed: the store is already re-keyed.
        if (oldPassword !== undefined && (await allUnder(store, entries, newPassword))) return { rekeyed: [], migrated: [], alreadyDone: true };
        throw error;
      }
      await store.replaceAll(values, newPassword);
      return {
        rekeyed: entries.map((e) => e.name),
        migrated: entries.filter((e) => isLegacyFormat(e.format)).map((e) => e.name),
        ...(recovered === undefined ? {} : { recovered }),
      };
    },
    { recovering: true },
  );
}
