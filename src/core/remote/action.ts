import { randomBytes } from 'node:crypto';
import { UserError } from '../../domain/errors.js';
import { SecretValue } from '../../domain/secret-value.js';
import type { ServerInfo } from '../../ports/provider.js';
import type { HostTarget } from '../../ports/remote-host.js';
import type { Workspace } from '../../ports/workspace.js';
import { splitWords } from '../../domain/shell-words.js';
import { shellQuote } from '../../remote/shell-quote.js';
import { checkModuleName, isEnvName } from '../../domain/names.js';
import { nodeAddressResolver, substitutePlaceholders } from '../placeholders.js';
import { forEachHost, HostStepFailed, type FanoutDeps, type HostOutcome } from './fanout.js';
import { lineEmitter, outputTail } from './output-lines.js';


export interface EnvAssignment {
  readonly name: string;
  readonly value: string;
}

/**
 * `--env-vars K=V,K2=V2`: a comma starts a new item only when `NAME=` follows it, so values may
 * contain commas; each item is split at its FIRST `=`, so values may contain `=`, spaces and
 * quotes (upstream cut values at a second `=` and crashed on an item without one). Error messages
 * never repeat a value: values are often passwords.
 */
export function parseEnvVars(values: readonly string[]): EnvAssignment[] {
  return values
    .flatMap((value) => value.split(/,(?=[A-Za-z_][A-Za-z0-9_]*=)/))
    .filter((item) => item !== '')
    .map((item, index) => {
      const eq = item.indexOf('=');
      const name = eq === -1 ? '' : item.slice(0, eq);
      if (!isEnvName(name)) {
        throw new UserError(`--env-vars: item ${index + 1} is not NAME=value (NAME made of letters, digits and _, not starting with a digit)`);
      }
      return { name, value: item.slice(eq + 1) };
    });
}

/**
 * `--env-vars-file`: one `NAME=value` per line, the value the rest of the line exactly as written (no
 * quotes removed, `=` allowed); blank lines and lines starting with `#` are skipped. Errors name
 * the source and line, never a value.
 */
export function parseEnvFile(text: string, source: string): EnvAssignment[] {
  const assignments: EnvAssignment[] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const eq = line.indexOf('=');
    const name = eq === -1 ? '' : line.slice(0, eq);
    if (!isEnvName(name)) {
      throw new UserError(`${source}: line ${index + 1} is not NAME=value (NAME made of letters, digits and _, not starting with a digit)`);
    }
    assignments.push({ name, value: line.slice(eq + 1) });
  }
  return assignments;
}

/** Both sources together; a name given twice is refused (which one was meant is not clear). */
export function mergeEnvAssignments(...sources: readonly (readonly EnvAssignment[])[]): EnvAssignment[] {
  const all = sources.flat();
  const seen = new Set<string>();
  for (const { name } of all) {
    if (seen.has(name)) throw new UserError(`${name} is given twice (--env-vars / --env-vars-file); give each variable once`);
    seen.add(name);
  }
  return all;
}

/** A file the remote shell sources: one `export NAME='value'` line each, every value quoted once. */
export function envFileContent(assignments: readonly string[][]): string {
  return assignments.map(([name, value]) => `export ${name}=${shellQuote(value ?? '')}\n`).join('');
}

/**
 * Runs the script with the variables from `envFile` (which it deletes first thing), so values
 * never appear on a command line, where `ps` would show them.
 */
const WITH_ENV_FILE = '. "$1" && rm -f -- "$1" && shift && exec bash "$@"';

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
  /** Cluster: overlay IPs by node name, for `[%%<node>.overlayIp%%]`. */
  readonly overlayIps?: ReadonlyMap<string, string>;
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
 * Runs `app_modules/<module>/action.sh` on the targets: the script (and a 0600 file with the
 * variables) goes to a fresh temporary path over SFTP, runs as `bash <script> <words...>` with
 * every word quoted once (nothing the operator typed is interpreted by the remote shell), and is
 * removed afterwards.
 */
export async function runAction(deps: FanoutDeps & { project: Workspace }, params: ActionParams): Promise<ActionOutcome> {
  checkModuleName(params.appModule, '--app-module');
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
      const resolve = nodeAddressResolver(params.servers, { name: target.name, address: target.address }, params.overlayIps);
      const forms = `[%%<node>.ipv4%%], ${params.overlayIps === undefined ? '' : '[%%<node>.overlayIp%%], '}[%%localhost.hostname%%], [%%localhost.ipv4%%]`;
      return [target.name, params.env.map((v) => [v.name, substitutePlaceholders(v.value, resolve, `--env-vars ${v.name}`, forms)])];
    }),
  );

  let captured: SecretValue | undefined;
  const outcomes = await forEachHost(deps, params.targets, params.concurrency, async (host) => {
    const stem = `/tmp/nix-infra-action-${randomBytes(8).toString('hex')}`;
    const remoteScript = `${stem}.sh`;
    const envFile = `${stem}.env`;
    const env = envByHost.get(host.target.name) ?? [];
    const sftp = await host.files();
    await sftp.writeFile(remoteScript, script, 0o700);
    if (env.length > 0) await sftp.writeFile(envFile, Buffer.from(envFileContent(env)), 0o600);
    const argv = env.length > 0 ? ['bash', '-c', WITH_ENV_FILE, 'nix-infra-action', envFile, remoteScript, ...words] : ['bash', remoteScript, ...words];
    const lines = lineEmitter(deps.reporter, host.target.name);
    try {
      const result = await host.exec(
        { argv },
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
      if (env.length > 0) await sftp.remove(envFile).catch(() => undefined);
    }
  });
  return { outcomes, ...(captured === undefined ? {} : { captured }) };
}
