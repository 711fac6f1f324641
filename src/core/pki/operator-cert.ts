import type { PkiEngine } from '../../ports/pki.js';
import type { Workspace } from '../../ports/workspace.js';
import { UserError } from '../../domain/errors.js';
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
import { operatorCertLayout } from './leaf-layout.js';

/**
 * The operator's client certificate: how the CLI itself authenticates to etcd over mTLS
 * (upstream had none and ran etcdctl on a node over SSH). clientAuth only, no SANs, CN
 * `nix-infra-operator`; kept in ca/intermediate/operator/.
 */
export function operatorCertificateSpec(): LeafSpec {
  return {
    owner: 'operator',
    kind: 'operator',
    keyPath: operatorCertLayout.key,
    certPath: operatorCertLayout.cert,
    commonName: operatorCertLayout.commonName,
    sans: { ips: [], dnsNames: [] },
    usage: 'client',
  };
}

export async function prepareOperatorCertificate(deps: LeafDeps, options: LeafOptions = {}): Promise<PreparedLeaves> {
  return prepareLeafCertificates(deps, [operatorCertificateSpec()], options);
}

export async function ensureOperatorCertificate(deps: LeafDeps, options: LeafOptions = {}): Promise<LeafResult> {
  const [result] = await (await prepareOperatorCertificate(deps, options)).apply();
  if (result === undefined) throw new Error('internal: one operator certificate was planned, none returned');
  return result;
}

/** What an etcd client needs for mTLS: the CA chain to trust, the client cert and its key. */
export interface OperatorTlsCredentials {
  readonly caChainPem: string;
  readonly certPem: string;
  readonly key: SecretValue;
}

/** Reads and checks the operator's credentials; a missing or mismatched pair is a UserError. */
export async function readOperatorCredentials(deps: { readonly workspace: Workspace; readonly pki: PkiEngine }): Promise<OperatorTlsCredentials> {
  const { workspace: ws, pki } = deps;
  const { rootPem, intermediatePem } = await readCaCertificates(ws, pki);
  const hint = 'issue the operator certificate (it is re-issued when missing, expiring or not matching its key)';
  for (const rel of [operatorCertLayout.cert, operatorCertLayout.key]) {
    if ((await ws.stat(rel)) === undefined) throw new UserError(`${rel} is missing`, { hints: [hint] });
  }
  const certPem = (await ws.readFile(operatorCertLayout.cert)).toString('utf8');
  const key = new SecretValue(operatorCertLayout.key, await ws.readFile(operatorCertLayout.key));
  if (!pki.isIssuedBy(certPem, intermediatePem) || !pki.keyMatchesCertificate(key, certPem)) {
    throw new UserError(`${operatorCertLayout.cert} does not match its key or the current intermediate CA`, { hints: [hint] });
  }
  // The chain as nodes get it when present; built from the CA certificates otherwise.
  const chain = (await ws.stat(caLayout.intermediate.chain)) === undefined
    ? `${rootPem.trimEnd()}\n${intermediatePem.trimEnd()}\n`
    : (await ws.readFile(caLayout.intermediate.chain)).toString('utf8');
  return { caChainPem: chain, certPem, key };
}
