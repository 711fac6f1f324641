import path from 'node:path';
import { FsSecretStore } from '../../adapters/secret-store/fs-secret-store.js';
import { BaseCommand } from '../../cli/base-command.js';
import { rekeySecrets } from '../../core/secrets/rekey-secrets.js';
import { printResult } from '../../ui/output.js';

export default class SecretsRekey extends BaseCommand<typeof SecretsRekey> {
  static override summary = 'Re-encrypt every secret under a new password, migrating upstream files.';

  static override description = `The current password comes from SECRETS_PASS (or a prompt), the new one from
SECRETS_NEW_PASS (or a prompt, asked twice). Every secret is decrypted before the first one is
rewritten, so a wrong password or a damaged file leaves the store as it was. Upstream files
(plain base64 or OpenSSL enc) are converted to the current format. Afterwards, put the new
password into SECRETS_PASS.`;

  static override enableJsonFlag = true;

  static override examples = [
    'SECRETS_PASS="$OLD" SECRETS_NEW_PASS="$NEW" <%= config.bin %> <%= command.id %> -d ./my-cluster --batch',
  ];

  async run(): Promise<{ rekeyed: readonly string[]; migrated: readonly string[] }> {
    const session = this.openProject();
    const result = await rekeySecrets({ ctx: session.ctx, store: new FsSecretStore(path.join(session.workingDir, 'secrets')) });
    if (!this.jsonEnabled()) {
      printResult(
        `Re-keyed ${result.rekeyed.length} secret(s)` +
          (result.migrated.length > 0 ? `; migrated from upstream formats: ${result.migrated.join(', ')}` : '') +
          '. Set SECRETS_PASS to the new password.',
      );
    }
    return result;
  }
}
