import type { PkiEngine } from '../../ports/pki.js';
import type { Workspace } from '../../ports/workspace.js';
import { UserError } from '../../domain/errors.js';
import { isHostnameLabel } from '../../domain/names.js';
import { SecretValue } from '../../domain/secret-value.js';
import { caLayout } from './ca-layout.js';
import {
  type LeafDeps,
  type LeafOptions,
  type LeafResult,
  type LeafSpec,
  type PreparedLeaves,
  prepareLeafCertificates,
  readCaCertificates,
} from './leaf-certs.js';
import { type NodeCertKind, nodeCertFileName, nodeCertPaths, nodeCertsRemote } from './leaf-layout.js';
import { LOOPBACK, canonicalIps } from './subject-alt-names.js';

/** A cluster node as the certificate code needs it. */
export interface CertNode {
  /** Node name (a hostname label): file names, the CN and the DNS SAN. */
  readonly name: string;
  /** Every address the node is reached at (public IPv4/IPv6, private network); at least one. */
  readonly addresses: readonly string[];
  /** Control nodes run etcd members and also get a peer certificate. */
  readonly control: boolean;
}

export function nodeCertKinds(node: { readonly control: boolean }): NodeCertKind[] {
  return node.control ? ['client', 'peer'] : ['client'];
}

function checkNode(node: CertNode): void {
  if (!isHostnameLabel(node.name)) {
    throw new UserError(`node name ${JSON.stringify(node.name)} cannot name a certificate: use letters, digits and "-" (at most 63)`);
  }
  if (node.addresses.length === 0) {
    throw new UserError(`${node.name} has no address yet, so its certificate cannot name one`, {
      hints: ['provision the node first, or give it an ip in servers.yaml'],
    });
  }
}

/**
 * The certificates one node needs: `client` (etcd's client port, also used by the node's own
 * etcd clients; serverAuth+clientAuth) and, for control nodes, `peer` (etcd member traffic).
 * SANs: the node's addresses, 127.0.0.1 and the node name as a DNS name. Subjects keep
 * upstream's CNs, `<node> client tls` and `<node> peer tls`.
 */
export function nodeCertificateSpecs(node: CertNode): LeafSpec[] {
  checkNode(node);
  const ips = canonicalIps([...node.addresses, LOOPBACK], (value) => new UserError(`${node.name}: ${JSON.stringify(value)} is not an IP address`));
  return nodeCertKinds(node).map((kind) => {
    const paths = nodeCertPaths(node.name, kind);
    return {
      owner: node.name,
      kind,
      keyPath: paths.key,
      certPath: paths.cert,
      commonName: `${node.name} ${kind} tls`,
      sans: { ips, dnsNames: [node.name] },
      usage: kind === 'peer' ? 'peer' : 'server-client',
    };
  });
}

/** Plans the certificates of `nodes` (see prepareLeafCertificates); apply() writes them. */
export async function prepareNodeCertificates(deps: LeafDeps, nodes: readonly CertNode[], options: LeafOptions = {}): Promise<PreparedLeaves> {
  return prepareLeafCertificates(deps, nodes.flatMap(nodeCertificateSpecs), options);
}

/** Issues what is missing, stale or changed for `nodes`, keeps the rest. */
export async function ensureNodeCertificates(deps: LeafDeps, nodes: readonly CertNode[], options: LeafOptions = {}): Promise<LeafResult[]> {
  return (await prepareNodeCertificates(deps, nodes, options)).apply();
}

/** One file to place in /root/certs on a node. Keys travel as SecretValue. */
export type BundleFile =
  | { readonly name: string; readonly secret: false; readonly content: string }
  | { readonly name: string; readonly secret: true; readonly content: SecretValue };

export interface NodeCertBundle {
  readonly node: string;
  /** `/root/certs`, created with `dirMode` (0700). */
  readonly remoteDir: string;
  readonly dirMode: number;
  /** Every file gets `fileMode` (0400), as upstream sets it. */
  readonly fileMode: number;
  /** `ca-chain.cert.pem`, then per kind `<node>-<kind>-tls.cert.pem` and `.key.pem`. */
  readonly files: readonly BundleFile[];
}

/**
 * What to upload to a node, read from the project and checked: the CA chain (root then
 * intermediate, as upstream names it) and the node's certificate and key per kind. Refuses a
 * missing file, a key that does not match its certificate, or a certificate or chain that is
 * not the current intermediate's, so a node never receives a pair etcd would reject.
 */
export async function nodeCertificateBundle(
  deps: { readonly workspace: Workspace; readonly pki: PkiEngine },
  node: { readonly name: string; readonly control: boolean },
): Promise<NodeCertBundle> {
  const { workspace: ws, pki } = deps;
  if (!isHostnameLabel(node.name)) throw new UserError(`node name ${JSON.stringify(node.name)} is not a hostname label`);
  const { intermediatePem } = await readCaCertificates(ws, pki);
  const issueHint = `issue the certificates for ${node.name} again (nix-infra re-issues what is missing or does not match)`;
  if ((await ws.stat(caLayout.intermediate.chain)) === undefined) {
    throw new UserError(`${caLayout.intermediate.chain} is missing`, { hints: [issueHint] });
  }
  const chain = (await ws.readFile(caLayout.intermediate.chain)).toString('utf8');
  if (!chain.includes(intermediatePem.trim())) {
    throw new UserError(`${caLayout.intermediate.chain} does not contain the current intermediate certificate`, {
      hints: [`remove ${caLayout.intermediate.chain}; it is written again with the next certificate run`],
    });
  }
  const files: BundleFile[] = [{ name: nodeCertsRemote.chainFileName, secret: false, content: chain }];
  for (const kind of nodeCertKinds(node)) {
    const paths = nodeCertPaths(node.name, kind);
    for (const rel of [paths.cert, paths.key]) {
      if ((await ws.stat(rel)) === undefined) throw new UserError(`${rel} is missing`, { hints: [issueHint] });
    }
    const certPem = (await ws.readFile(paths.cert)).toString('utf8');
    const key = new SecretValue(paths.key, await ws.readFile(paths.key));
    if (!pki.isIssuedBy(certPem, intermediatePem)) {
      throw new UserError(`${paths.cert} was not issued by the current intermediate CA`, { hints: [issueHint] });
    }
    if (!pki.keyMatchesCertificate(key, certPem)) {
      throw new UserError(`${paths.key} does not belong to ${paths.cert}`, { hints: [issueHint] });
    }
    files.push({ name: nodeCertFileName(node.name, kind, 'cert'), secret: false, content: certPem });
    files.push({ name: nodeCertFileName(node.name, kind, 'key'), secret: true, content: key });
  }
  return { node: node.name, remoteDir: nodeCertsRemote.dir, dirMode: nodeCertsRemote.dirMode, fileMode: nodeCertsRemote.fileMode, files };
}
