import { OperationFailed } from '../../domain/errors.js';
import type { PkiEngine } from '../../ports/pki.js';
import type { SshKeyFactory, SshKeyType } from '../../ports/ssh-keys.js';
import type { Workspace } from '../../ports/workspace.js';
import type { CoreContext } from '../context.js';
import { obtainText } from '../credentials.js';
import { prepareCertificateAuthority } from '../pki/create-ca.js';
import { copyScaffold, type ProjectTemplate } from './scaffold.js';
import { checkSshKeyName } from '../../domain/names.js';
import { createSshKey, sshKeyPaths } from './ssh-key.js';

export interface InitProjectParams {
  readonly template: ProjectTemplate;
  readonly certAuth: boolean;
  /** From --ssh-key; falls back to SSH_KEY, then a prompt. */
  readonly sshKeyName: string | undefined;
  /** From --ssh-email; falls back to SSH_EMAIL, then a prompt. */
  readonly sshEmail: string | undefined;
  readonly sshKeyType: SshKeyType;
}

export interface InitProjectDeps {
  readonly ctx: CoreContext;
  readonly project: Workspace;
  readonly templates: Workspace;
  readonly pki: PkiEngine;
  readonly keys: SshKeyFactory;
}

export interface InitProjectResult {
  readonly directory: string;
  readonly sshKeyName: string;
  readonly template: ProjectTemplate;
  readonly certAuth: boolean;
}

/**
 * Turns a folder into a nix-infra project: scaffold, SSH key pair, CA (cluster mode), secrets/.
 * Every input is gathered before the first write, and nothing that exists is overwritten, so the
 * command can be re-run at any time and a second run changes nothing.
 */
export async function initProject(deps: InitProjectDeps, params: InitProjectParams): Promise<InitProjectResult> {
  const { ctx, project } = deps;
  if (!(await ctx.prompter.confirm(`Initialise ${project.root} as a nix-infra project?`))) {
    throw new OperationFailed('aborted: nothing was changed');
  }

  const sshKeyName = await obtainText(ctx, { flagValue: params.sshKeyName, flagName: 'ssh-key', envKey: 'SSH_KEY', label: 'ssh key name' });
  checkSshKeyName(sshKeyName);
  const keyExists = (await project.stat(sshKeyPaths(sshKeyName).privateKey)) !== undefined;
  const sshEmail = keyExists
    ? ''
    : await obtainText(ctx, { flagValue: params.sshEmail, flagName: 'ssh-email', envKey: 'SSH_EMAIL', label: 'ssh key e-mail' });
  const writeCa = params.certAuth ? await prepareCertificateAuthority({ ctx, workspace: project, pki: deps.pki }) : undefined;

  await copyScaffold({ templates: deps.templates, project, reporter: ctx.reporter }, params.template);
  if (!keyExists) {
    await createSshKey({ workspace: project, keys: deps.keys, reporter: ctx.reporter }, { name: sshKeyName, email: sshEmail, type: params.sshKeyType });
  } else {
    ctx.reporter.emit({ kind: 'skipped', path: sshKeyPaths(sshKeyName).privateKey, reason: 'already exists' });
  }
  await writeCa?.();
  if (await project.ensureDir('secrets', 0o700)) {
    ctx.reporter.emit({ kind: 'created', path: 'secrets', what: 'secret store folder (0700)' });
  }
  return { directory: project.root, sshKeyName, template: params.template, certAuth: params.certAuth };
}
