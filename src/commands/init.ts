import { Flags } from '@oclif/core';
import { ForgePki } from '../adapters/forge-pki.js';
import { NodeWorkspace } from '../adapters/node-workspace.js';
import { Ssh2KeyFactory } from '../adapters/ssh2-keygen.js';
import { BaseCommand } from '../cli/base-command.js';
import { templatesDir } from '../cli/package-paths.js';
import { initProject } from '../core/init/init-project.js';
import { printNote, printResult } from '../ui/output.js';
import { nextSteps } from '../core/init/next-steps.js';
import path from 'node:path';

/** The .env init may add to: the project's own (or --env when it is inside the project). */
function projectEnvFile(workingDir: string, envFile: string | undefined): string | undefined {
  if (envFile === undefined) return '.env';
  const rel = path.relative(workingDir, envFile);
  return rel.startsWith('..') || path.isAbsolute(rel) ? undefined : rel;
}

export default class Init extends BaseCommand<typeof Init> {
  static override summary = 'Turn a folder into a nix-infra project: SSH key, CA, secrets folder and scaffold.';

  static override description = `Creates what is missing, and leaves everything that exists as it is (a second run changes nothing):
- ssh/<name> and ssh/<name>.pub: the SSH key pair (ed25519 unless --ssh-key-type rsa), private key 0600.
- ca/ and ca/intermediate/: root and intermediate CA for etcd's mutual TLS, in the layout \`openssl ca\` uses (skipped with --no-cert-auth). The keys are AES-256 encrypted with CA_PASS and INTERMEDIATE_CA_PASS; the subject comes from CERT_EMAIL, CERT_COUNTRY_CODE (SE), CERT_STATE_PROVINCE (unknown) and CERT_COMPANY (unknown).
- secrets/: the local secret store (0700).
- the scaffold of the cluster or fleet template (.gitignore, .env.example, ...).

Values missing from flags, the environment and .env are prompted for; with --batch they are errors, raised before anything is written.
What init was given or asked for is added to .env (0600; existing lines are kept): SSH_KEY, and any value you typed. Typed CA passwords are saved only if you agree. Then the next steps are printed.`;

  static override examples = [
    {
      description: 'A cluster project, non-interactively (passwords come from .env or the environment):',
      command: '<%= config.bin %> <%= command.id %> -d ./my-cluster --ssh-key nixinfra --ssh-email ops@example.com --batch',
    },
    {
      description: 'A fleet of standalone machines, without the etcd certificate authority:',
      command: '<%= config.bin %> <%= command.id %> -d ./my-fleet --template fleet --no-cert-auth --batch',
    },
  ];

  static override flags = {
    'ssh-email': Flags.string({ summary: 'E-mail put in the SSH key comment (default: SSH_EMAIL).' }),
    'ssh-key-type': Flags.string({ summary: 'Type of a new SSH key.', options: ['ed25519', 'rsa'], default: 'ed25519' }),
    'no-cert-auth': Flags.boolean({ summary: 'Do not create the certificate authority (fleet projects need none).' }),
    template: Flags.string({
      summary: 'Scaffold to copy in [default: cluster, or fleet with --no-cert-auth].',
      options: ['cluster', 'fleet'],
    }),
  };

  async run(): Promise<void> {
    const session = this.openProject();
    const certAuth = !this.flags['no-cert-auth'];
    const template = (this.flags.template ?? (certAuth ? 'cluster' : 'fleet')) as 'cluster' | 'fleet';
    const result = await initProject(
      {
        ctx: session.ctx,
        project: session.workspace,
        templates: new NodeWorkspace(templatesDir),
        pki: new ForgePki(),
        keys: new Ssh2KeyFactory(),
      },
      {
        template,
        certAuth,
        sshKeyName: this.flags['ssh-key'],
        sshEmail: this.flags['ssh-email'],
        sshKeyType: this.flags['ssh-key-type'] as 'ed25519' | 'rsa',
        envFile: projectEnvFile(session.workingDir, session.envFile),
      },
    );
    printResult(`Project ready: ${result.directory} (${result.template}, ssh key ${result.sshKeyName}; ${session.reporter.summary()})`);
    if (result.envNotSaved.length > 0) printNote(`Not saved: ${result.envNotSaved.join(', ')}. Set them in .env or the environment, or type them when asked.`);
    const relative = path.relative(process.cwd(), result.directory);
    const dir = relative === '' ? '.' : relative.startsWith('..') ? result.directory : relative;
    printResult(['', 'Next steps:', ...nextSteps(result.template, { dir, sshKeySaved: !result.envNotSaved.includes('SSH_KEY') }).map((step, i) => `  ${i + 1}. ${step}`)].join('\n'));
  }
}
