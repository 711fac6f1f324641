import { UserError } from '../../domain/errors.js';
import type { LocalFiles } from '../../ports/local-files.js';
import type { PkiEngine } from '../../ports/pki.js';
import type { HostTarget, RemoteHost } from '../../ports/remote-host.js';
import type { Workspace } from '../../ports/workspace.js';
import { nixSystemFor } from '../../remote/host-facts.js';
import { checkNixosVersion, FIRST_REBUILD } from '../../remote/nixos-install.js';
import type { CoreContext } from '../context.js';
import { nodeCertificateBundle, nodeCertificateSpecs } from '../pki/node-certs.js';
import { operatorCertificateSpec } from '../pki/operator-cert.js';
import { prepareLeafCertificates } from '../pki/leaf-certs.js';
import { forEachHost, HostStepFailed, type FanoutDeps, type HostOutcome } from '../remote/fanout.js';
import { lineEmitter, outputTail } from '../remote/output-lines.js';
import { checkClusterUuid, etcdClusterText } from './etcd-members.js';
import { renderSystemFiles } from './system-files.js';

export interface InitCtrlDeps extends FanoutDeps {
  readonly ctx: CoreContext;
  readonly project: Workspace;
  readonly pki: PkiEngine;
  readonly local: LocalFiles;
}

export interface InitCtrlParams {
  readonly targets: readonly HostTarget[];
  readonly nixosVersion: string;
  readonly clusterUuid: string;
  readonly concurrency: number;
}

export interface ControlNodeResult {
  readonly certificates: string[];
  readonly files: number;
}

/** Certificates to /root/certs: the folder 0700, every file 0400 (keys never printed). */
async function uploadCertificates(deps: InitCtrlDeps, host: RemoteHost): Promise<string[]> {
  const bundle = await nodeCertificateBundle({ workspace: deps.project, pki: deps.pki }, { name: host.target.name, control: true });
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

async function nixSystemOf(host: RemoteHost): Promise<string> {
  const result = await host.exec({ argv: ['uname', '-m'] });
  const arch = result.stdout.toString('utf8').trim();
  const system = nixSystemFor(arch);
  if (result.exitCode !== 0 || system === undefined) throw new HostStepFailed(`unsupported or unknown architecture ${JSON.stringify(arch)}`);
  return system;
}

/**
 * The etcd control plane, node side: certificates (client + peer, and the operator's), the
 * system files with control_node.nix (etcdCluster = the targets, etcdClusterToken = the cluster
 * UUID), then `nixos-rebuild switch`. Talking to etcd afterwards is the caller's next step.
 */
export async function initControlNodes(deps: InitCtrlDeps, params: InitCtrlParams): Promise<HostOutcome<ControlNodeResult>[]> {
  const uuid = checkClusterUuid(params.clusterUuid);
  const nixosVersion = checkNixosVersion(params.nixosVersion);
  if (params.targets.length === 0) throw new UserError('no control nodes given');
  const members = etcdClusterText(params.targets.map((t) => ({ name: t.name, address: t.address })));

  // Every certificate first, the operator's included, so the CA password is asked once and a
  // wrong one changes nothing on any node.
  const specs = [...params.targets.flatMap((t) => nodeCertificateSpecs({ name: t.name, addresses: [t.address], control: true })), operatorCertificateSpec()];
  const prepared = await prepareLeafCertificates({ ctx: deps.ctx, workspace: deps.project, pki: deps.pki }, specs);
  for (const result of await prepared.apply()) {
    deps.reporter.emit(
      result.status === 'skipped'
        ? { kind: 'skipped', path: result.certPath, reason: result.reason }
        : { kind: 'created', path: result.certPath, what: `${result.owner} ${result.kind} certificate (${result.reason})` },
    );
  }

  return forEachHost(deps, params.targets, params.concurrency, async (host) => {
    const name = host.target.name;
    const step = (message: string): void => deps.reporter.emit({ kind: 'step', host: name, message });
    step('certificates to /root/certs');
    const certificates = await uploadCertificates(deps, host);
    const publicKey = (await deps.local.read(`${host.target.keyPath}.pub`)).toString('utf8').trim();
    const files = await renderSystemFiles(deps.project, {
      nodeName: name,
      nixosVersion,
      sshPublicKey: publicKey,
      hwArch: await nixSystemOf(host),
      nodeType: 'node_types/control_node.nix',
      nodeTypeTarget: 'control_node.nix',
      nodeTypeValues: new Map([
        ['etcdCluster', members],
        ['etcdClusterToken', uuid],
      ]),
    });
    step(`${files.length} files to /etc/nixos`);
    const sftp = await host.files();
    await sftp.mkdirp('/etc/nixos/modules', 0o755);
    for (const file of files) await sftp.writeFile(file.remotePath, file.content, 0o644);
    step('nixos-rebuild switch');
    const lines = lineEmitter(deps.reporter, name);
    const rebuild = await host.exec(FIRST_REBUILD, { onOutput: (stream, chunk) => lines.push(stream, chunk) });
    lines.flush();
    if (rebuild.exitCode !== 0) throw new HostStepFailed(`nixos-rebuild switch failed (exit ${rebuild.exitCode ?? 'none'})`, outputTail(rebuild.stdout, rebuild.stderr));
    return { certificates, files: files.length };
  });
}
