import { envValue } from '../../config/env.js';
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
import { withEnvEntries, type EnvEntry } from './env-file.js';

export interface InitProjectParams {
  readonly template: ProjectTemplate;
  readonly certAuth: boolean;
  /** From --ssh-key; falls back to SSH_KEY, then a prompt. */
  readonly sshKeyName: string | undefined;
  /** From --ssh-email; falls back to SSH_EMAIL, then a prompt. */
  readonly sshEmail: string | undefined;
  readonly sshKeyType: SshKeyType;
  /** The project's .env, relative to its folder; undefined when it lives elsewhere (--env): then nothing is saved. */
  readonly envFile: string | undefined;
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
  /** Variables added to the .env file (never their values). */
  readonly envSaved: readonly string[];
  /** Variables that were asked for but not saved, for the operator to keep elsewhere. */
  readonly envNotSaved: readonly string[];
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

  const unset = (key: string): boolean => envValue(ctx.env, key) === undefined;
  const emailAsked = params.sshEmail === undefined && unset('SSH_EMAIL');
  const sshKeyName = await obtainText(ctx, { flagValue: params.sshKeyName, flagName: 'ssh-key', envKey: 'SSH_KEY', label: 'ssh key name' });
  checkSshKeyName(sshKeyName);
  const keyExists = (await project.stat(sshKeyPaths(sshKeyName).privateKey)) !== undefined;
  const sshEmail = keyExists
    ? ''
    : await obtainText(ctx, { flagValue: params.sshEmail, flagName: 'ssh-email', envKey: 'SSH_EMAIL', label: 'ssh key e-mail' });
  const ca = params.certAuth ? await prepareCertificateAuthority({ ctx, workspace: project, pki: deps.pki }) : undefined;

  // The next command needs SSH_KEY, so a name from the flag or the prompt is saved; the other
  // answers are saved because they were typed. Passwords only when the operator agrees.
  const entries: EnvEntry[] = [];
  if (unset('SSH_KEY')) entries.push({ key: 'SSH_KEY', value: sshKeyName, comment: 'the SSH key pair under ssh/' });
  if (emailAsked && !keyExists) entries.push({ key: 'SSH_EMAIL', value: sshEmail });
  for (const [key, value] of Object.entries(ca?.typed.texts ?? {})) entries.push({ key, value });
  const passwords = ca?.typed.passwords ?? [];
  const keepPasswords =
    passwords.length > 0 && params.envFile !== undefined &&
    (await ctx.prompter.confirm(`Save ${passwords.map((p) => p.name).join(' and ')} in ${params.envFile} (plain text, readable only by you)? Otherwise commands that need them ask again.`));
  if (keepPasswords) for (const pass of passwords) entries.push({ key: pass.name, value: pass.revealText() });
  const envText = params.envFile === undefined ? undefined : await planEnvFile(project, params.envFile, entries);
  const notSaved = [...(params.envFile === undefined ? entries.map((e) => e.key) : []), ...(keepPasswords ? [] : passwords.map((p) => p.name))];

  await copyScaffold({ templates: deps.templates, project, reporter: ctx.reporter }, params.template);
  if (!keyExists) {
    await createSshKey({ workspace: project, keys: deps.keys, reporter: ctx.reporter }, { name: sshKeyName, email: sshEmail, type: params.sshKeyType });
  } else {
    ctx.reporter.emit({ kind: 'skipped', path: sshKeyPaths(sshKeyName).privateKey, reason: 'already exists' });
  }
  await ca?.apply();
  if (envText !== undefined && params.envFile !== undefined && envText.added.length > 0) {
    // Rewritten whole through a temporary file: 0600 from the start, never half-written.
    await project.writeFile(params.envFile, envText.text, { mode: 0o600 });
    ctx.reporter.emit({ kind: 'created', path: params.envFile, what: `settings ${envText.added.join(', ')} (0600)` });
  }
  if (await project.ensureDir('secrets', 0o700)) {
    ctx.reporter.emit({ kind: 'created', path: 'secrets', what: 'secret store folder (0700)' });
  }
  return {
    directory: project.root,
    sshKeyName,
    template: params.template,
    certAuth: params.certAuth,
    envSaved: envText?.added ?? [],
    envNotSaved: notSaved,
  };
}

/** The .env text with the new entries, checked (values that cannot be written fail here, before any write). */
async function planEnvFile(project: Workspace, envFile: string, entries: readonly EnvEntry[]): Promise<{ text: string; added: string[] }> {
  const existing = (await project.stat(envFile)) === undefined ? '' : (await project.readFile(envFile)).toString('utf8');
  return withEnvEntries(existing, entries, 'written by nix-infra init');
}
