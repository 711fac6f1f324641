import { randomBytes } from 'node:crypto';
import { UserError } from '../../domain/errors.js';
import { SecretValue } from '../../domain/secret-value.js';
import type { ServerInfo } from '../../ports/provider.js';
import type { HostTarget } from '../../ports/remote-host.js';
import type { Workspace } from '../../ports/workspace.js';
import { splitWords } from '../../remote/shell-quote.js';
import { nodeAddressResolver, substitutePlaceholders } from '../placeholders.js';
import { forEachHost, HostStepFailed, type FanoutDeps, type HostOutcome } from './fanout.js';
import { lineEmitter, outputTail } from './output-lines.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MODULE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export interface EnvAssignment {
  readonly name: string;
  readonly value: string;
}

/**
 * `--env-vars K=V,K2=V2`: items are split on commas, each at its FIRST `=`, so values may contain
 * `=`, spaces and quotes (upstream cut values at a second `=` and crashed on an item without one).
 */
export function parseEnvVars(values: readonly string[]): EnvAssignment[] {
  return values
    .flatMap((value) => value.split(','))
    .filter((item) => item !== '')
    .map((item) => {
      const eq = item.indexOf('=');
      const name = eq === -1 ? item : item.slice(0, eq);
      if (eq === -1 || !ENV_NAME.test(name)) {
        throw new UserError(`--env-vars: ${JSON.stringify(item)} is not NAME=value with NAME made of letters, digits and _`);
      }
      return { name, value: item.slice(eq + 1) };
    });
}

export interface ActionParams {
  readonly targets: readonly HostTarget[];
  /** Every server the provider knows, for `[%%<node>.ipv4%%]`. */
  readonly servers: readonly ServerInfo[];
  readonly appModule: string;
  /** The operator's --cmd: split into words, each passed literally. */
  readonly cmd: string;
  readonly env: readonly EnvAssignment[];
  readonly concurrency: number;
  /** Keep stdout as a secret instead of showing it (single target only). */
  readonly captureStdout: boolean;
}

export interface ActionOutput {
  readonly exitCode: number | null;
  /** Absent when stdout is captured as a secret. */
  readonly stdout?: string;
  readonly stderr: string;
}

export interface ActionOutcome {
  readonly outcomes: HostOutcome<ActionOutput>[];
  /** stdout of the single target when `captureStdout` was set and the action succeeded. */
  readonly captured?: SecretValue;
}

/**
 * Runs `app_modules/<module>/action.sh` on the targets: the script goes to a fresh temporary path
 * over SFTP, runs as `env NAME=value... bash <script> <words...>` with every word quoted once
 * (nothing the operator typed is interpreted by the remote shell), and is removed afterwards.
 */
export async function runAction(deps: FanoutDeps & { project: Workspace }, params: ActionParams): Promise<ActionOutcome> {
  if (!MODULE_NAME.test(params.appModule) || params.appModule.includes('..')) {
    throw new UserError(`--app-module: ${JSON.stringify(params.appModule)} is not a module folder name`);
  }
  if (params.captureStdout && params.targets.length !== 1) {
    throw new UserError('--save-as-secret needs exactly one target (one secret cannot hold several nodes\' output)');
  }
  const scriptFile = `app_modules/${params.appModule}/action.sh`;
  if ((await deps.project.stat(scriptFile)) === undefined) {
    throw new UserError(`${scriptFile}: not found in ${deps.project.root}`);
  }
  const script = await deps.project.readFile(scriptFile);
  const words = splitWords(params.cmd);
  // Resolve every placeholder for every target before anything runs anywhere.
  const envByHost = new Map(
    params.targets.map((target) => {
      const resolve = nodeAddressResolver(params.servers, { name: target.name, address: target.address });
      return [target.name, params.env.map((v) => `${v.name}=${substitutePlaceholders(v.value, resolve, `--env-vars ${v.name}`)}`)];
    }),
  );

  let captured: SecretValue | undefined;
  const outcomes = await forEachHost(deps, params.targets, params.concurrency, async (host) => {
    const remoteScript = `/tmp/nix-infra-action-${randomBytes(8).toString('hex')}.sh`;
    const sftp = await host.files();
    await sftp.writeFile(remoteScript, script, 0o700);
    const lines = lineEmitter(deps.reporter, host.target.name);
    try {
      const result = await host.exec(
        { argv: ['env', ...(envByHost.get(host.target.name) ?? []), 'bash', remoteScript, ...words] },
        // A captured stdout is a secret: only stderr is shown while it runs.
        { onOutput: (stream, chunk) => (params.captureStdout && stream === 'stdout' ? undefined : lines.push(stream, chunk)) },
      );
      lines.flush();
      const output: ActionOutput = {
        exitCode: result.exitCode,
        ...(params.captureStdout ? {} : { stdout: result.stdout.toString('utf8') }),
        stderr: result.stderr.toString('utf8'),
      };
      if (result.exitCode !== 0) {
        const tail = params.captureStdout ? outputTail(Buffer.alloc(0), result.stderr) : outputTail(result.stdout, result.stderr);
        throw new HostStepFailed(`action failed (exit ${result.exitCode ?? 'none'})`, tail, output);
      }
      if (params.captureStdout) captured = new SecretValue('action-output', result.stdout);
      return output;
    } finally {
      await sftp.remove(remoteScript).catch(() => undefined);
    }
  });
  return { outcomes, ...(captured === undefined ? {} : { captured }) };
}
