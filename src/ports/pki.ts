import type { SecretValue } from '../domain/secret-value.js';

/** Subject fields in the order upstream writes them: C, ST, O, CN, emailAddress. */
export interface DistinguishedName {
  readonly country: string;
  readonly state: string;
  readonly organization: string;
  readonly commonName: string;
  readonly email: string;
}

export interface IssuedCertificate {
  readonly pem: string;
  /** Uppercase hex, as openssl writes it to serial and index.txt. */
  readonly serialHex: string;
  readonly notAfter: Date;
}

export interface CertificateSummary {
  readonly subject: DistinguishedName;
  readonly serialHex: string;
  readonly notAfter: Date;
  readonly isCa: boolean;
}

/**
 * Key and certificate operations. The adapter uses Node's crypto for key generation (fast,
 * native) and node-forge for X.509. Private keys travel as SecretValue so they never print.
 */
export interface PkiEngine {
  /** New RSA key, unencrypted PKCS#8 PEM. */
  generateRsaKey(bits: number): Promise<SecretValue>;
  /** PKCS#8 PEM encrypted with AES-256-CBC (PBES2/PBKDF2), readable by `openssl`. */
  encryptKey(keyPem: SecretValue, passphrase: SecretValue): string;
  /**
   * Reads an encrypted key in any form openssl writes: PKCS#8 `ENCRYPTED PRIVATE KEY`, or
   * legacy `RSA PRIVATE KEY` with DEK-Info. Throws a UserError naming `source` on a wrong
   * passphrase.
   */
  decryptKey(encryptedPem: string, passphrase: SecretValue, source: string): SecretValue;
  selfSignedRootCa(params: { key: SecretValue; subject: DistinguishedName; days: number }): IssuedCertificate;
  csr(params: { key: SecretValue; subject: DistinguishedName }): string;
  /** Signs an intermediate CA (pathlen 0) for `subjectKey`'s public half. */
  signIntermediateCa(params: {
    issuerKey: SecretValue;
    issuerCertPem: string;
    subjectKey: SecretValue;
    subject: DistinguishedName;
    serialHex: string;
    days: number;
  }): IssuedCertificate;
  describe(certPem: string): CertificateSummary;
  /** Signs an end-entity certificate (CA:FALSE) with SANs and key usages for `usage`. */
  signLeaf(params: SignLeafParams): IssuedCertificate;
  /** Reads what the reuse decision needs: SANs, validity, EKU. Throws on a certificate it cannot parse. */
  inspectLeaf(certPem: string): LeafCertificateSummary;
  /** True when `key` is the private half of the certificate's public key; false for unreadable input. */
  keyMatchesCertificate(key: SecretValue, certPem: string): boolean;
  /** True when `certPem` names `issuerCertPem`'s subject as issuer and carries its valid signature. */
  isIssuedBy(certPem: string, issuerCertPem: string): boolean;
  /**
   * Why Go's x509 parser (etcd, etcdctl, flannel, confd) would reject the certificate's names,
   * or undefined when it would not: a PrintableString holding characters outside its alphabet
   * (an e-mail's `@`, `_`), which early nix-infra CAs wrote.
   */
  nameEncodingProblem(certPem: string): string | undefined;
}

/**
 * What a leaf certificate is for. All three are end-entity certificates (CA:FALSE).
 * - `server-client`: etcd's client port cert on a node, also used by the node's own clients
 *   (etcdctl, flannel, confd). EKU serverAuth + clientAuth; upstream's `client_tls`.
 * - `peer`: etcd member-to-member traffic on control nodes. EKU serverAuth + clientAuth;
 *   upstream's `peer_tls`.
 * - `client`: a pure client identity (the operator's CLI). EKU clientAuth only.
 */
export type LeafUsage = 'server-client' | 'peer' | 'client';

/** IP addresses (IPv4 dotted, IPv6 any valid text form) and DNS names of a certificate. */
export interface SubjectAltNames {
  readonly ips: readonly string[];
  readonly dnsNames: readonly string[];
}

export interface SignLeafParams {
  /** The issuing (intermediate) CA's private key and certificate. */
  readonly issuerKey: SecretValue;
  readonly issuerCertPem: string;
  /** The leaf's own private key; only its public half goes into the certificate. */
  readonly subjectKey: SecretValue;
  readonly subject: DistinguishedName;
  /** Uppercase hex from the CA's `serial` file. */
  readonly serialHex: string;
  readonly days: number;
  readonly sans: SubjectAltNames;
  readonly usage: LeafUsage;
}

export interface LeafCertificateSummary extends CertificateSummary {
  readonly notBefore: Date;
  readonly sans: SubjectAltNames;
  /** Extended key usages by openssl short name (`serverAuth`, `clientAuth`, ...) or OID. */
  readonly extendedKeyUsage: readonly string[];
}
