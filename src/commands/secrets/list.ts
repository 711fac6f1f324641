import { BaseCommand } from '../../cli/base-command.js';
import { openSecretStore } from '../../cli/secret-store.js';
import { listSecrets } from '../../core/secrets/list-secrets.js';
import { printResult, renderTable } from '../../ui/output.js';

interface SecretListing {
  secrets: Array<{ name: string; format: string; modified: string; sizeBytes: number }>;
}

export default class SecretsList extends BaseCommand<typeof SecretsList> {
  static override summary = 'List stored secrets: name, format and last change. Values are never shown.';

  static override description = `Formats: v1 (nix-infra's encryption), legacy-base64 (upstream files, which were only
base64-encoded; deploys refuse them until \`secrets import\` or \`secrets rekey\` encrypts them),
legacy-openssl (OpenSSL enc files, refused the same way), unknown. No password is needed.`;

  static override enableJsonFlag = true;

  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> -d ./my-cluster --json'];

  async run(): Promise<SecretListing> {
    const session = this.openProject();
    const entries = await listSecrets({ store: openSecretStore(session.workingDir) });
    const secrets = entries.map((e) => ({ name: e.name, format: e.format, modified: e.modified.toISOString(), sizeBytes: e.sizeBytes }));
    if (!this.jsonEnabled()) {
      printResult(
        secrets.length === 0
          ? 'No secrets stored.'
          : renderTable(['NAME', 'FORMAT', 'MODIFIED'], secrets.map((s) => [s.name, s.format, s.modified])),
      );
    }
    return { secrets };
  }
}
