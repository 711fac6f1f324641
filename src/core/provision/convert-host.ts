import type { Reporter } from '../../ports/reporter.js';
import type { HostConnector, RemoteHost } from '../../ports/remote-host.js';
import { HOST_FACTS_SCRIPT, nixSystemFor, parseHostFacts, runsNixos, type HostFacts } from '../../remote/host-facts.js';
import {
  FIRST_REBUILD,
  INSTALL_SCRIPT_PATH,
  installCommand,
  NIXOS_HOST_KEY_PUB,
  PROVISION_DIR,
  READ_NIXOS_HOST_KEY,
  REBOOT_SOON,
  STAGED_CONFIGURATION_PATH,
  type InstallRequest,
} from '../../remote/nixos-install.js';
import { HostKeyMismatch } from '../../domain/errors.js';
import { parsePublicKeyLine, type HostKey } from '../../remote/known-hosts.js';
import { HostStepFailed } from '../remote/fanout.js';
import { lineEmitter, outputTail } from '../remote/output-lines.js';

export interface ConversionDeps {
  readonly connector: HostConnector;
  readonly reporter: Reporter;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
}

export interface ConversionPlan {
  /** This node's configuration.nix, placeholders already resolved. */
  readonly configuration: string;
  readonly installScript: Buffer;
  readonly install: InstallRequest;
  /** How long the machine may take to come back from its reboot. */
  readonly rebootTimeoutMs: number;
  /** Pause between attempts to reach the rebooting machine. */
  readonly rebootPollMs: number;
}

export type ConversionStatus = 'converted' | 'already-nixos' | 'mutated';

export interface ConversionResult {
  readonly status: ConversionStatus;
  /** The distribution before, e.g. "Ubuntu 24.04 LTS". */
  readonly before: string;
  readonly arch: string;
  /** `nixos-version` once the machine runs NixOS. */
  readonly nixosVersion?: string;
}

/** Below this, nixos-infect's build runs out of memory even with the swap file it adds. */
export const MIN_MEMORY_MIB = 512;

/**
 * A host's conversion failed. `retryable`: running the conversion again may succeed (a download
 * failed, the machine did not come back in time); false when it cannot (unsupported machine, a
 * configuration that does not build), so a retry round would only repeat the failure.
 */
export class ConversionFailed extends HostStepFailed {
  constructor(
    message: string,
    details: readonly string[],
    readonly retryable: boolean,
  ) {
    super(message, details);
    this.name = 'ConversionFailed';
  }
}

async function readFacts(host: RemoteHost): Promise<HostFacts> {
  const result = await host.exec({ script: HOST_FACTS_SCRIPT });
  if (result.exitCode !== 0) throw new ConversionFailed(`could not read the machine's facts (exit ${result.exitCode ?? 'none'})`, outputTail(result.stdout, result.stderr), true);
  return parseHostFacts(result.stdout.toString('utf8'));
}

/** Refuses a machine nixos-infect cannot convert, before anything is changed on it. */
function preflight(facts: HostFacts): void {
  if (nixSystemFor(facts.arch) === undefined) {
    throw new ConversionFailed(`architecture ${facts.arch || 'unknown'} is not supported by NixOS (x86_64 and aarch64 are)`, [], false);
  }
  if (facts.memoryMiB < MIN_MEMORY_MIB) {
    throw new ConversionFailed(`${facts.memoryMiB} MiB of memory is too little to build NixOS (at least ${MIN_MEMORY_MIB} MiB)`, [], false);
  }
  if (facts.bootId === '') throw new ConversionFailed('the machine reports no boot id (/proc/sys/kernel/random/boot_id)', [], false);
}

/**
 * Converts one machine to NixOS, waiting on facts rather than sleeps:
 * facts -> upload configuration.nix and the install script -> nixos-infect (no reboot) ->
 * read the host key NixOS will present (still over the trusted connection) -> reboot -> wait for
 * a NEW boot id, accepting only that key -> verify /etc/NIXOS, os-release and nixos-version ->
 * pin that key -> first `nixos-rebuild switch`.
 * A machine that already runs NixOS is left alone.
 */
export async function convertHost(deps: ConversionDeps, host: RemoteHost, plan: ConversionPlan): Promise<ConversionResult> {
  const name = host.target.name;
  const step = (message: string): void => deps.reporter.emit({ kind: 'step', host: name, message });

  const before = await readFacts(host);
  if (runsNixos(before)) {
    step(`already runs NixOS (${before.nixosVersion || before.os.prettyName}); nothing to convert`);
    return { status: 'already-nixos', before: before.os.prettyName, arch: before.arch, nixosVersion: before.nixosVersion };
  }
  preflight(before);

  step(`converting ${before.os.prettyName || 'an unknown distribution'} (${before.arch}, ${before.memoryMiB} MiB) to NixOS ${plan.install.nixosVersion}`);
  const files = await host.files();
  await files.mkdirp(PROVISION_DIR, 0o700);
  await files.writeFile(STAGED_CONFIGURATION_PATH, Buffer.from(plan.configuration), 0o600);
  await files.writeFile(INSTALL_SCRIPT_PATH, plan.installScript, 0o700);

  const lines = lineEmitter(deps.reporter, name);
  const installed = await host.exec(installCommand(plan.install), { onOutput: (stream, chunk) => lines.push(stream, chunk) });
  lines.flush();
  if (installed.exitCode !== 0) {
    throw new ConversionFailed(`nixos-infect failed (exit ${installed.exitCode ?? 'none'})`, outputTail(installed.stdout, installed.stderr), true);
  }
  if (plan.install.mutation !== undefined) {
    step('converted in place by the mutation; reboot the machine to finish');
    return { status: 'mutated', before: before.os.prettyName, arch: before.arch };
  }

  const nextKey = await readNixosHostKey(host);
  step('rebooting into NixOS');
  const reboot = await host.exec(REBOOT_SOON);
  if (reboot.exitCode !== 0) throw new ConversionFailed(`could not schedule the reboot (exit ${reboot.exitCode ?? 'none'})`, outputTail(reboot.stdout, reboot.stderr), true);
  host.close();

  const { host: rebooted, facts: after } = await waitForNewBoot(deps, host, before.bootId, nextKey, plan);
  try {
    if (!(runsNixos(after) && after.nixosMarker && after.nixosVersion !== '')) {
      throw new ConversionFailed(
        `came back from the reboot still running ${after.os.prettyName || 'an unknown system'}: the conversion did not take`,
        [`/etc/NIXOS ${after.nixosMarker ? 'exists' : 'is missing'}, nixos-version ${after.nixosVersion === '' ? 'is missing' : `says ${after.nixosVersion}`}`],
        true,
      );
    }
    if (before.defaultRoute !== '' && after.defaultRoute === '') {
      throw new ConversionFailed('lost its default route in the conversion', [`before: ${before.defaultRoute}`, 'check networking.nix on the node'], false);
    }
    // Verified, over a connection that presented the key read before the reboot: pin it.
    await deps.connector.pinHostKey(host.target, nextKey);
    step(`runs NixOS ${after.nixosVersion}; first nixos-rebuild switch`);
    const rebuildLines = lineEmitter(deps.reporter, name);
    const rebuild = await rebooted.exec(FIRST_REBUILD, { onOutput: (stream, chunk) => rebuildLines.push(stream, chunk) });
    rebuildLines.flush();
    if (rebuild.exitCode !== 0) {
      throw new ConversionFailed(`nixos-rebuild switch failed (exit ${rebuild.exitCode ?? 'none'})`, outputTail(rebuild.stdout, rebuild.stderr), false);
    }
    return { status: 'converted', before: before.os.prettyName, arch: before.arch, nixosVersion: after.nixosVersion };
  } finally {
    rebooted.close();
  }
}

/**
 * The public half of the host key the converted system will serve. Read over the connection
 * whose key is pinned, so it is this machine's word; after the reboot nothing else is accepted.
 */
async function readNixosHostKey(host: RemoteHost): Promise<HostKey> {
  const read = await host.exec(READ_NIXOS_HOST_KEY);
  const key = read.exitCode === 0 ? parsePublicKeyLine(read.stdout.toString('utf8')) : undefined;
  if (key === undefined) {
    throw new ConversionFailed(`could not read the host key NixOS will use (${NIXOS_HOST_KEY_PUB}); not rebooting`, outputTail(read.stdout, read.stderr), true);
  }
  return key;
}

/**
 * Reconnects until the machine answers with a boot id other than `oldBootId`. Every connection
 * must present `expectedKey` (read before the reboot); a host with another key is refused before
 * it learns anything, and the conversion fails at once (no retry: that host is still there).
 * Nothing is pinned here: the caller pins `expectedKey` once the host checked out.
 * A connection that still sees the old boot id (the reboot has not started) is dropped and tried
 * again. Bounded by `rebootTimeoutMs`; the error says what was waited for and the last obstacle.
 */
async function waitForNewBoot(
  deps: ConversionDeps,
  old: RemoteHost,
  oldBootId: string,
  expectedKey: HostKey,
  plan: ConversionPlan,
): Promise<{ host: RemoteHost; facts: HostFacts }> {
  const start = deps.now().getTime();
  const deadline = start + plan.rebootTimeoutMs;
  let lastObstacle = 'it did not answer yet';
  deps.reporter.emit({ kind: 'step', host: old.target.name, message: `waiting for the reboot (up to ${Math.round(plan.rebootTimeoutMs / 1000)} s)` });
  for (;;) {
    await deps.sleep(plan.rebootPollMs);
    const remaining = deadline - deps.now().getTime();
    if (remaining <= 0) {
      throw new ConversionFailed(
        `did not come back from the reboot within ${Math.round(plan.rebootTimeoutMs / 1000)} s (waited for a boot id other than ${oldBootId})`,
        [`last: ${lastObstacle}`],
        true,
      );
    }
    let candidate: RemoteHost;
    try {
      candidate = await deps.connector.connect(old.target, { hostKey: { expect: expectedKey }, timeoutMs: Math.max(1000, Math.min(remaining, 30_000)) });
    } catch (err) {
      if (err instanceof HostKeyMismatch) {
        throw new ConversionFailed(`after the reboot, ${old.target.address} presented another host key than the one read before it: refused`, err.hints, false);
      }
      lastObstacle = (err as Error).message;
      continue;
    }
    try {
      const facts = await readFacts(candidate);
      if (facts.bootId !== '' && facts.bootId !== oldBootId) return { host: candidate, facts };
      lastObstacle = 'it answered with the old boot id (the reboot had not started)';
    } catch (err) {
      lastObstacle = (err as Error).message;
    }
    candidate.close();
  }
}
