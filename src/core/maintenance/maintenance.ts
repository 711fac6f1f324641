import type { ExecResult, HostTarget, RemoteCommand, RemoteHost } from '../../ports/remote-host.js';
import { checkNixosVersion, REBUILD } from '../../remote/nixos-install.js';
import { CHANNEL_UPDATE, channelAdd, GARBAGE_COLLECT, NIXOS_VERSION, ROLLBACK } from '../../remote/maintenance.js';
import type { Workspace } from '../../ports/workspace.js';
import type { LocalFiles } from '../../ports/local-files.js';
import { substitutePlaceholders } from '../placeholders.js';
import { forEachHost, HostStepFailed, type FanoutDeps, type HostOutcome } from '../remote/fanout.js';
import { nixSystemOf, publicKeyOf } from '../remote/node-identity.js';
import { lineEmitter, outputTail } from '../remote/output-lines.js';
import { UserError } from '../../domain/errors.js';

/** Runs one step on the host, streams its output, and fails the host on a non-zero exit. */
async function step(deps: FanoutDeps, host: RemoteHost, what: string, command: RemoteCommand): Promise<ExecResult> {
  const lines = lineEmitter(deps.reporter, host.target.name);
  const result = await host.exec(command, { onOutput: (stream, chunk) => lines.push(stream, chunk) });
  lines.flush();
  if (result.exitCode !== 0) throw new HostStepFailed(`${what} failed (exit ${result.exitCode ?? 'none'})`, outputTail(result.stdout, result.stderr));
  return result;
}

/** `gc`: `nix-collect-garbage -d` (drops every older generation, so rollback history too). */
export function collectGarbage(deps: FanoutDeps, params: { targets: readonly HostTarget[]; concurrency: number }): Promise<HostOutcome<{ done: true }>[]> {
  return forEachHost(deps, params.targets, params.concurrency, async (host) => {
    await step(deps, host, 'nix-collect-garbage -d', GARBAGE_COLLECT);
    return { done: true } as const;
  });
}

/** `rollback`: back to the previous system generation. */
export function rollback(deps: FanoutDeps, params: { targets: readonly HostTarget[]; concurrency: number }): Promise<HostOutcome<{ done: true }>[]> {
  return forEachHost(deps, params.targets, params.concurrency, async (host) => {
    await step(deps, host, 'nixos-rebuild switch --rollback', ROLLBACK);
    return { done: true } as const;
  });
}

export interface UpgradeResult {
  readonly before: string;
  readonly after: string;
  /** False when the node already ran the requested release. */
  readonly upgraded: boolean;
}

const firstLine = (result: ExecResult): string => result.stdout.toString('utf8').trim().split('\n')[0] ?? '';

/**
 * `upgrade-nixos --nixos-version`: the version before; unless it already is that release,
 * configuration.nix and flake.nix re-rendered with the new version (flake.nix names the nixpkgs
 * branch, so the lock follows), the `nixos` channel moved, `nixos-rebuild switch`; the version
 * after, which must be the requested release or the host fails naming both. Without a version:
 * channel update and rebuild on the current release.
 */
export function upgradeNixos(
  deps: FanoutDeps & { project: Workspace; local: LocalFiles },
  params: { targets: readonly HostTarget[]; concurrency: number; nixosVersion?: string },
): Promise<HostOutcome<UpgradeResult>[]> {
  const version = params.nixosVersion === undefined ? undefined : checkNixosVersion(params.nixosVersion);
  return forEachHost(deps, params.targets, params.concurrency, async (host) => {
    const name = host.target.name;
    const before = firstLine(await step(deps, host, 'nixos-version', NIXOS_VERSION));
    deps.reporter.emit({ kind: 'step', host: name, message: `NixOS before: ${before}` });
    if (version !== undefined && before.startsWith(`${version}.`)) {
      deps.reporter.emit({ kind: 'step', host: name, message: `already on ${version}` });
      return { before, after: before, upgraded: false };
    }
    if (version !== undefined) {
      await uploadVersionedFiles(deps, host, version);
      await step(deps, host, 'nix-channel --add', channelAdd(version));
    }
    await step(deps, host, 'nix-channel --update', CHANNEL_UPDATE);
    await step(deps, host, 'nixos-rebuild switch', REBUILD);
    const after = firstLine(await step(deps, host, 'nixos-version', NIXOS_VERSION));
    deps.reporter.emit({ kind: 'step', host: name, message: `NixOS after: ${after}` });
    // A rebuild can succeed and still leave the old release running (a flake.nix that does not
    // take the version, a lock pinned elsewhere): only what the node reports counts.
    if (version !== undefined && !after.startsWith(`${version}.`)) {
      throw new HostStepFailed(`upgrade to NixOS ${version} did not take: the node runs ${after} after the rebuild (was ${before})`, [
        `expected ${version}.*, got ${after}`,
        'check that flake.nix names nixpkgs by [%%nixVersion%%] and that flake.lock follows it',
      ]);
    }
    return { before, after, upgraded: true };
  });
}

/** configuration.nix and flake.nix with the new release; the other files are deploy's business. */
async function uploadVersionedFiles(deps: { project: Workspace; local: LocalFiles }, host: RemoteHost, version: string): Promise<void> {
  const hwArch = await nixSystemOf(host);
  const sshKey = await publicKeyOf(deps.local, host.target);
  const values = new Map([
    ['nodeName', host.target.name],
    ['nixVersion', version],
    ['sshKey', sshKey],
    ['hwArch', hwArch],
  ]);
  const files = await host.files();
  await files.mkdirp('/etc/nixos', 0o755);
  for (const rel of ['configuration.nix', 'flake.nix']) {
    if ((await deps.project.stat(rel)) === undefined) throw new UserError(`${rel}: not found in ${deps.project.root}`);
    const text = (await deps.project.readFile(rel)).toString('utf8');
    const rendered = substitutePlaceholders(text, (key) => values.get(key), rel, '[%%nodeName%%], [%%nixVersion%%], [%%sshKey%%], [%%hwArch%%]');
    await files.writeFile(`/etc/nixos/${rel}`, Buffer.from(rendered), 0o644);
  }
}
