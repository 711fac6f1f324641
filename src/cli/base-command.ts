import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { Command, Flags, type Interfaces } from '@oclif/core';
import { readEnvFile } from '../adapters/dotenv-file.js';
import { NodeWorkspace } from '../adapters/node-workspace.js';
import { envValue, mergeEnv, resolveEnvFile, type EnvMap } from '../config/env.js';
import type { CoreContext } from '../core/context.js';
import { UserError } from '../domain/errors.js';
import { LineReporter } from '../ui/event-renderer.js';
import { TtyPrompter } from '../ui/tty-prompter.js';

export type CommandFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>;

/** What every project command starts from: the resolved folder, its environment and the UI ports. */
export interface ProjectSession {
  readonly ctx: CoreContext;
  readonly workingDir: string;
  readonly workspace: NodeWorkspace;
  readonly envFile: string | undefined;
  readonly reporter: LineReporter;
  /** The command as typed, without arguments: `fleet deploy-apps` (for locks and the audit trail). */
  readonly command: string;
}

/**
 * Flags every command accepts after its name (`nix-infra secrets store -d proj --batch`), the
 * form upstream's scripts use. Commands stay thin: parse, build a session, call one core
 * function, render.
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override baseFlags = {
    'working-dir': Flags.string({
      char: 'd',
      summary: 'Project folder (must exist).',
      default: '.',
      helpGroup: 'GLOBAL',
    }),
    env: Flags.string({
      summary: 'The .env file: absolute, or relative to the project folder, then to the current folder.',
      helpGroup: 'GLOBAL',
    }),
    'ssh-key': Flags.string({
      summary: 'Name of the SSH key pair in ssh/ (default: SSH_KEY from the environment or .env).',
      helpGroup: 'GLOBAL',
    }),
    debug: Flags.boolean({ summary: 'Show stack traces and every step.', allowNo: true, helpGroup: 'GLOBAL' }),
    batch: Flags.boolean({
      summary: 'Never prompt: confirmations are answered yes, a missing value is an error.',
      allowNo: true,
      helpGroup: 'GLOBAL',
    }),
  };

  protected flags!: CommandFlags<T>;
  /** Positional words left after flags (commands with `strict = false`, such as `cmd`). */
  protected rest: string[] = [];

  override async init(): Promise<void> {
    await super.init();
    const { flags, argv } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (this.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    });
    this.flags = flags as CommandFlags<T>;
    this.rest = argv.map(String);
  }

  /** Resolves the project folder and its .env, and builds the context core functions receive. */
  protected openProject(): ProjectSession {
    const workingDir = path.resolve(this.flags['working-dir']);
    if (!existsSync(workingDir) || !statSync(workingDir).isDirectory()) {
      throw new UserError(`working directory does not exist: ${workingDir}`, {
        hints: ['create it first, or pass an existing folder with -d/--working-dir'],
      });
    }
    const envFile = resolveEnvFile({ workingDir, cwd: process.cwd(), envFlag: this.flags.env, exists: existsSync });
    let fileValues: EnvMap = {};
    if (envFile !== undefined) {
      try {
        fileValues = readEnvFile(envFile);
      } catch (error) {
        if (error instanceof UserError) throw error;
        throw new UserError(`${envFile}: cannot read: ${(error as Error).message}`);
      }
    }
    const env = mergeEnv(process.env, fileValues);
    const quiet = this.jsonEnabled();
    const reporter = new LineReporter({ debug: this.flags.debug, quiet });
    const ctx: CoreContext = {
      env,
      prompter: new TtyPrompter({ batch: this.flags.batch }),
      reporter,
      now: () => new Date(),
    };
    const command = (this.id ?? '').replace(/:/g, ' ');
    return { ctx, workingDir, workspace: new NodeWorkspace(workingDir), envFile, reporter, command };
  }

  /** `--ssh-key`, else SSH_KEY from the environment or .env. */
  protected sshKeyName(session: ProjectSession): string | undefined {
    return this.flags['ssh-key'] ?? envValue(session.ctx.env, 'SSH_KEY');
  }

  // Errors are rendered once, in bin/run.js, so every command maps them to exit codes the same way.
  protected override async catch(error: Error & { exitCode?: number }): Promise<unknown> {
    throw error;
  }
}

/** A folder a flag names, as an absolute path; one that does not exist is an input error. */
export function existingFolder(absPath: string, flag: string): string {
  if (!(statSync(absPath, { throwIfNoEntry: false })?.isDirectory() ?? false)) {
    throw new UserError(`${flag}: folder not found: ${absPath}`);
  }
  return absPath;
}
