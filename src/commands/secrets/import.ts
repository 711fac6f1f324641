import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { openSecretStore } from '../../cli/secret-store.js';
import { importSecrets, type ImportResult } from '../../core/secrets/import-secrets.js';
import { printResult } from '../../ui/output.js';

export default class SecretsImport extends BaseCommand<typeof SecretsImport> {
  static override summary = "Accept the Dart tool's legacy secret files: encrypt them under SECRETS_PASS.";

  static override description = `Deploys refuse legacy files (legacy-base64 is not encrypted, so anyone who can write secrets/ can
plant one). Run this once for the files that are really yours: each is read and stored again in
the current format under SECRETS_PASS (checked against an existing secret first). Without --name,
every legacy file is imported; \`secrets list\` shows which those are.`;

  static override enableJsonFlag = true;

  static override examples = ['<%= config.bin %> <%= command.id %> --name app.db', 'SECRETS_PASS="$PASS" <%= config.bin %> <%= command.id %> -d ./my-cluster --batch'];

  static override flags = {
    name: Flags.string({ summary: 'Import only this secret (repeatable).', multiple: true }),
  };

  async run(): Promise<ImportResult> {
    const session = this.openProject();
    const store = openSecretStore(session.workingDir);
    const result = await importSecrets({ ctx: session.ctx, store }, { names: this.flags.name ?? [] });
    if (!this.jsonEnabled()) {
      printResult(
        result.imported.length === 0
          ? 'No legacy secret files to import.'
          : result.imported.map((i) => `imported ${i.name} (was ${i.from})`).join('\n'),
      );
    }
    return result;
  }
}
