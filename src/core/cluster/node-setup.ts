import type { LocalFiles } from '../../ports/local-files.js';
import type { PkiEngine } from '../../ports/pki.js';
import type { Reporter } from '../../ports/reporter.js';
import type { RemoteHost } from '../../ports/remote-host.js';
import type { Workspace } from '../../ports/workspace.js';
import type { DeployGoal } from '../../domain/deploy-goal.js';
import { parseDryActivate, type DryActivation } from '../../remote/dry-activate.js';
import { rebuildFor } from '../../remote/nixos-install.js';
import type { CoreContext } from '../context.js';
import { prepareLeafCertificates, type LeafSpec } from '../pki/leaf-certs.js';
import { nodeCertificateBundle } from '../pki/node-certs.js';
import { HostStepFailed } from '../remote/fanout.js';
import { nixSystemOf, publicKeyOf } from '../remote/node-identity.js';
import { lineEmitter, outputTail } from '../remote/output-lines.js';
import { renderSystemFiles, type NodeFile, type SystemFileParams } from './system-files.js';

export interface NodeSetupDeps {
  readonly ctx: CoreContext;
  readonly reporter: Reporter;
  readonly project: Workspace;
  readonly pki: PkiEngine;
  readonly local: LocalFiles;
}

/**
 * Issues (or keeps) every certificate in `specs` at once, so the CA password is asked once. The
 * PKI reports each file itself (through the context's reporter).
 */
export async function issueCertificates(deps: NodeSetupDeps, specs: readonly LeafSpec[]): Promise<void> {
  const prepared = await prepareLeafCertificates({ ctx: deps.ctx, workspace: deps.project, pki: deps.pki }, specs);
  await prepared.apply();
}

/** The node's certificates to /root/certs: the folder 0700, every file 0400 (keys never printed). */
export async function uploadCertificates(deps: NodeSetupDeps, host: RemoteHost, control: boolean): Promise<string[]> {
  const bundle = await nodeCertificateBundle({ workspace: deps.project, pki: deps.pki }, { name: host.target.name, control });
  const files = await host.files();
  await files.mkdirp(bundle.remoteDir, bundle.dirMode);
  // mkdirp leaves an existing folder's mode alone; this one must be 0700 whatever it was.
  const chmod = await host.exec({ argv: ['chmod', '0700', bundle.remoteDir] });
  if (chmod.exitCode !== 0) throw new HostStepFailed(`cannot set the mode of ${bundle.remoteDir}`, outputTail(chmod.stdout, chmod.stderr));
  for (const file of bundle.files) {
    const content = file.secret ? file.content.reveal() : Buffer.from(file.content);
    await files.writeFile(`${bundle.remoteDir}/${file.name}`, content, bundle.fileMode);
  }
  return bundle.files.map((f) => f.name);
}

/** Renders and uploads /etc/nixos for this node (see renderSystemFiles); returns what was written. */
export async function uploadSystemFiles(
  deps: NodeSetupDeps,
  host: RemoteHost,
  params: Omit<SystemFileParams, 'nodeName' | 'sshPublicKey' | 'hwArch'>,
  extra: readonly NodeFile[] = [],
): Promise<NodeFile[]> {
  const publicKey = await publicKeyOf(deps.local, host.target);
  const files = [
    ...(await renderSystemFiles(deps.project, { ...params, nodeName: host.target.name, sshPublicKey: publicKey, hwArch: await nixSystemOf(host) })),
    ...extra,
  ];
  const sftp = await host.files();
  await sftp.mkdirp('/etc/nixos/modules', 0o755);
  for (const file of files) await sftp.writeFile(file.remotePath, file.content, 0o644);
  return files;
}

/**
 * `nixos-rebuild <goal>` (switch unless told), its output streamed, its exit status checked. With
 * dry-activate, what activation would do to units, read from that output.
 */
export async function rebuild(deps: { reporter: Reporter }, host: RemoteHost, goal: DeployGoal = 'switch'): Promise<{ dryActivation?: DryActivation }> {
  const lines = lineEmitter(deps.reporter, host.target.name);
  const result = await host.exec(rebuildFor(goal), { onOutput: (stream, chunk) => lines.push(stream, chunk) });
  lines.flush();
  if (result.exitCode !== 0) throw new HostStepFailed(`nixos-rebuild ${goal} failed (exit ${result.exitCode ?? 'none'})`, outputTail(result.stdout, result.stderr));
  if (goal !== 'dry-activate') return {};
  return { dryActivation: parseDryActivate(`${result.stdout.toString('utf8')}\n${result.stderr.toString('utf8')}`) };
}
