import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { openSecretStore } from '../../cli/secret-store.js';
import { readSecretInput } from '../../cli/secret-input.js';
import { assertSecretName, storeSecret } from '../../core/secrets/store-secret.js';
import { printResult } from '../../ui/output.js';

export default class SecretsStore extends BaseCommand<typeof SecretsStore> {
  static override summary = 'Encrypt a secret into the project\'s secrets/ folder (storing an existing name rotates it).';

  static override description = `The value comes from --secret-file, from stdin, or from --secret (visible in the process
list; avoid it); on a terminal without any of them it is asked for, hidden, twice. It is encrypted with AES-256-GCM under a key derived (scrypt) from SECRETS_PASS,
which is read from the environment or .env, or prompted for. SECRETS_PWD is still accepted.
The password is checked against the secrets already stored before anything is written.
Names may contain letters, digits, ".", "_" and "-".`;

  static override aliases = ['store-secret'];

  static override examples = [
    {
      description: 'From a file (the whole content, newlines included):',
      command: '<%= config.bin %> <%= command.id %> --name mariadb.password --secret-file ./pw.txt',
    },
    { description: 'From stdin:', command: 'openssl rand -hex 32 | <%= config.bin %> <%= command.id %> --name api.token --batch' },
    {
      description: 'The original flat form, still accepted:',
      command: '<%= config.bin %> store-secret --secret="$VALUE" --store-as-secret=api.token',
    },
  ];

  static override flags = {
    name: Flags.string({ summary: 'Secret name.', required: true, aliases: ['store-as-secret'] }),
    secret: Flags.string({ summary: 'The value itself (visible in `ps`; prefer --secret-file or stdin).' }),
    'secret-file': Flags.string({ summary: 'Read the value from this file.' }),
  };

  async run(): Promise<void> {
    const session = this.openProject();
    assertSecretName(this.flags.name);
    const value = await readSecretInput({
      secret: this.flags.secret,
      secretFile: this.flags['secret-file'],
      cwd: process.cwd(),
      reporter: session.ctx.reporter,
      prompter: session.ctx.prompter,
      name: this.flags.name,
    });
    const store = openSecretStore(session.workingDir);
    const result = await storeSecret({ ctx: session.ctx, store }, { name: this.flags.name, value });
    printResult(`Secret ${result.replaced ? 'replaced' : 'saved'}: ${result.name}`);
  }
}
