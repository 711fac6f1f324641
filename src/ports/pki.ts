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
}
