import { BaseCommand } from '../../cli/base-command.js';
import { openSecretStore } from '../../cli/secret-store.js';
import { rekeySecrets, type RekeyResult } from '../../core/secrets/rekey-secrets.js';
import { printNote, printResult } from '../../ui/output.js';

export default class SecretsRekey extends BaseCommand<typeof SecretsRekey> {
  static override summary = 'Re-encrypt every secret under a new password, migrating upstream files.';

  static override description = `The current password comes from SECRETS_PASS (or a prompt), the new one from
SECRETS_NEW_PASS (or a prompt, asked twice). Every secret is decrypted before the first one is
rewritten, so a wrong password or a damaged file leaves the store as it was. Upstream files
(plain base64 or OpenSSL enc) are converted to the current format. The switch is all-or-nothing:
the new files are written first, then switched in one step; if a run was interrupted, the next
run finishes it (when it had switched) or rolls it back and re-keys. The store is locked
meanwhile. Afterwards, put the new password into SECRETS_PASS.`;

  static override enableJsonFlag = true;

  static override examples = [
    'SECRETS_PASS="$OLD" SECRETS_NEW_PASS="$NEW" <%= config.bin %> <%= command.id %> -d ./my-cluster --batch',
  ];

  async run(): Promise<RekeyResult> {
    const session = this.openProject();
    const result = await rekeySecrets({ ctx: session.ctx, store: openSecretStore(session.workingDir) });
    if (!this.jsonEnabled() && result.alreadyDone === true) {
      printResult('Every secret is already under the new password (SECRETS_NEW_PASS); nothing to do. Set SECRETS_PASS to it.');
    } else if (!this.jsonEnabled() && result.recovered === 'finished') {
      printResult('Finished an interrupted re-key: every secret is now under the new password. Set SECRETS_PASS to it.');
    } else if (!this.jsonEnabled()) {
      if (result.recovered === 'rolled-back') printNote('An interrupted re-key had not switched yet; it was rolled back and re-keying started again.');
      printResult(
        `Re-keyed ${result.rekeyed.length} secret(s)` +
          (result.migrated.length > 0 ? `; migrated from upstream formats: ${result.migrated.join(', ')}` : '') +
          '. Set SECRETS_PASS to the new password.',
      );
    }
    return result;
  }
}
