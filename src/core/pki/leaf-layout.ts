import { caLayout } from './ca-layout.js';

/**
 * Where leaf certificates live and how long they last. Node files keep upstream's names and
 * folder (`ca/intermediate/private/<node>-<kind>-tls.{key,cert}.pem`), so projects started with
 * upstream keep their certificates and nodes keep the file names their NixOS modules expect.
 */

/** `client` is etcd's client-port cert (also its server cert); `peer` is for etcd member traffic. */
export type NodeCertKind = 'client' | 'peer';

/** 1835 days (about 5 years), as upstream's `openssl ca -days 1835`. */
export const leafValidityDays = 1835;
/** Leaf keys are RSA 2048 and stored unencrypted, as upstream's `openssl genrsa 2048`. */
export const leafKeyBits = 2048;
/** A certificate that expires within this many days is re-issued. */
export const leafRenewalDays = 30;

/** Local file modes: keys readable by the owner only; certificates public. */
export const leafKeyMode = 0o600;
export const leafCertMode = 0o644;
/** Folders that hold unencrypted keys. */
export const leafDirMode = 0o700;

export const intermediatePrivateDir = 'ca/intermediate/private';

export function nodeCertFileName(node: string, kind: NodeCertKind, part: 'key' | 'cert'): string {
  return `${node}-${kind}-tls.${part}.pem`;
}

export function nodeCertPaths(node: string, kind: NodeCertKind): { readonly key: string; readonly cert: string } {
  return {
    key: `${intermediatePrivateDir}/${nodeCertFileName(node, kind, 'key')}`,
    cert: `${intermediatePrivateDir}/${nodeCertFileName(node, kind, 'cert')}`,
  };
}

/**
 * The operator's own client certificate (the CLI talking to etcd with mTLS). It has a folder of
 * its own so that no node name can ever address these files.
 */
export const operatorCertLayout = {
  dir: 'ca/intermediate/operator',
  key: 'ca/intermediate/operator/nix-infra-operator.key.pem',
  cert: 'ca/intermediate/operator/nix-infra-operator.cert.pem',
  commonName: 'nix-infra-operator',
} as const;

/** What nodes receive, and where (upstream's `deployEtcdCertsOnClusterNode`). */
export const nodeCertsRemote = {
  dir: '/root/certs',
  dirMode: 0o700,
  fileMode: 0o400,
  chainFileName: 'ca-chain.cert.pem',
} as const;

export const chainPath = caLayout.intermediate.chain;
