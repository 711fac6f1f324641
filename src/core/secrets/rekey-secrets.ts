import { OperationFailed, UserError } from '../../domain/errors.js';
import type { SecretValue } from '../../domain/secret-value.js';
import type { SecretStore } from '../../ports/secret-store.js';
import type { CoreContext } from '../context.js';
import { obtainPassword } from '../credentials.js';
import { newSecretsPassword, secretsPassword } from './secrets-password.js';

export interface RekeyResult {
  /** Every secret now encrypted under the new password. */
  readonly rekeyed: readonly string[];
  /** Those among them that were in an upstream format before. */
  readonly migrated: readonly string[];
}

/**
 * Re-encrypts every secret under a new password, migrating upstream files to the current format.
 * All secrets are read (and so checked) before the first write: a wrong old password or a damaged
 * file stops the command with the store unchanged. Each write is atomic (temp file + rename).
 */
export async function rekeySecrets(deps: { ctx: CoreContext; store: SecretStore }): Promise<RekeyResult> {
  const entries = await deps.store.list();
  const unreadable = entries.filter((e) => e.format === 'unknown');
  if (unreadable.length > 0) {
    throw new UserError(`cannot re-key: ${unreadable.map((e) => `secrets/${e.name}`).join(', ')} not in a known format`, {
      hints: ['move those files out of secrets/ (or restore them from a backup) and run the command again'],
    });
  }
  const needsOldPassword = entries.some((e) => e.format === 'v1' || e.format === 'legacy-openssl');
  const oldPassword = needsOldPassword ? await obtainPassword(deps.ctx, secretsPassword) : undefined;
  const newPassword = await obtainPassword(deps.ctx, newSecretsPassword);

  const values: SecretValue[] = [];
  for (const entry of entries) values.push(await deps.store.read(entry.name, oldPassword));
  const done: string[] = [];
  for (const value of values) {
    try {
      await deps.store.write(value, newPassword);
    } catch (error) {
      if (done.length === 0) throw error;
      throw new OperationFailed(`re-keying stopped at ${value.name}: ${(error as Error).message}`, [
        `already under the NEW password: ${done.join(', ')}`,
        'the others are still under the old one; fix the cause and run `secrets rekey` again with SECRETS_PASS set to the NEW password only after all are done',
      ]);
    }
    done.push(value.name);
  }

  return {
    rekeyed: entries.map((e) => e.name),
    migrated: entries.filter((e) => e.format !== 'v1').map((e) => e.name),
  };
}
