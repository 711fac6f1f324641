import type { RemoteCommand, RemoteHost } from '../../ports/remote-host.js';
import { applyCommand, factsCommand, fileSetPayload, parseFacts, parseRemoved, type NodeFacts } from '../../remote/file-set.js';
import { parseProbe, probeCommand, type ProbeResult } from '../../remote/probe.js';
import { HostStepFailed } from '../remote/fanout.js';
import { outputTail } from '../remote/output-lines.js';
import { APP_MODULES_ROOT, NIXOS_DIR, staleAppModuleFiles, type DeployPlan } from './plan.js';

/**
 * A deploy's files in a fixed number of round trips per host, however many files there are
 * (decision 0010): one exec reads what the node has (with everything else planning reads), one exec
 * carries every changed file as a tar stream into a stage folder and swaps it in, and none when
 * nothing changed.
 */

/**
 * What planning needs from the node and the checksums of the files it has, plus any `extra`
 * read-only commands (the secrets folders' state), all in one exec.
 */
export async function readNodeFacts(host: RemoteHost, readVersion: boolean, extra: readonly RemoteCommand[] = []): Promise<{ facts: NodeFacts; extra: ProbeResult[] }> {
  const result = await host.exec(probeCommand([factsCommand(NIXOS_DIR, readVersion), ...extra]));
  if (result.exitCode !== 0) throw new HostStepFailed(`cannot read ${NIXOS_DIR} (exit ${result.exitCode ?? 'by signal'})`, outputTail(result.stdout, result.stderr));
  const [facts, ...rest] = parseProbe(result.stdout, extra.length + 1);
  if (facts === undefined || facts.exitCode !== 0) throw new HostStepFailed(`cannot read ${NIXOS_DIR} (exit ${facts?.exitCode ?? 'unknown'})`);
  return { facts: parseFacts(facts.stdout), extra: rest };
}

export interface FileSetResult {
  /** Files in the set. */
  readonly files: number;
  /** Paths that were written (new or different). */
  readonly changed: readonly string[];
  /** Stale app_modules files removed. */
  readonly removed: readonly string[];
}

/**
 * Brings the node's files in line with the plan. With `prune`, app_modules/ files the plan does
 * not name are removed (the node decides which, under its lock, from the plan's list).
 */
export async function applyFileSet(host: RemoteHost, plan: DeployPlan, onNode: NodeFacts, prune: boolean): Promise<FileSetResult> {
  const entries = [...plan.files, ...plan.appModules];
  const payload = fileSetPayload(NIXOS_DIR, entries, plan.directories, onNode.files, APP_MODULES_ROOT);
  const appModulesOnNode = [...onNode.files.keys()].filter((p) => p.startsWith(`${APP_MODULES_ROOT}/`));
  const stale = prune ? staleAppModuleFiles(appModulesOnNode, plan) : [];
  // Nothing differs from what the node had when it was read: no second round trip.
  if (payload.changed.length === 0 && stale.length === 0) return { files: entries.length, changed: [], removed: [] };
  const result = await host.exec(applyCommand(NIXOS_DIR, prune), { stdin: payload.archive });
  if (result.exitCode !== 0) {
    const status = result.exitCode === null ? `signal ${result.signal ?? 'unknown'}` : `exit ${result.exitCode}`;
    throw new HostStepFailed(`cannot write the files to ${NIXOS_DIR} (${status})`, outputTail(result.stdout, result.stderr));
  }
  return { files: entries.length, changed: payload.changed, removed: parseRemoved(result.stdout) };
}
