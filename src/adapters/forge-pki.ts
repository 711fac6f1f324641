import { createPrivateKey, generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import forge from 'node-forge';
import { UserError } from '../domain/errors.js';
import { SecretValue } from '../domain/secret-value.js';
import type { CertificateSummary, DistinguishedName, IssuedCertificate, PkiEngine } from '../ports/pki.js';

const generateKeyPairAsync = promisify(generateKeyPair);
const DAY_MS = 24 * 60 * 60 * 1000;

/** Subject attributes in upstream's order; openssl's index.txt lists them the same way. */
function toForgeAttributes(dn: DistinguishedName): forge.pki.CertificateField[] {
  return [
    { shortName: 'C', value: dn.country },
    { shortName: 'ST', value: dn.state },
    { shortName: 'O', value: dn.organization },
    { shortName: 'CN', value: dn.commonName },
    { name: 'emailAddress', value: dn.email },
  ];
}

function fromForgeAttributes(subject: forge.pki.Certificate['subject']): DistinguishedName {
  const get = (key: string): string => String(subject.getField(key)?.value ?? '');
  return {
    country: get('C'),
    state: get('ST'),
    organization: get('O'),
    commonName: get('CN'),
    email: String(subject.getField({ name: 'emailAddress' })?.value ?? ''),
  };
}

function forgeKey(key: SecretValue): forge.pki.rsa.PrivateKey {
  return forge.pki.privateKeyFromPem(key.revealText());
}

function publicOf(key: forge.pki.rsa.PrivateKey): forge.pki.rsa.PublicKey {
  return forge.pki.setRsaPublicKey(key.n, key.e);
}

/** A positive DER INTEGER needs a leading zero byte when the top bit is set. */
function positiveSerial(hex: string): string {
  const even = hex.length % 2 === 1 ? `0${hex}` : hex;
  return /^[89a-f]/i.test(even) ? `00${even}` : even;
}

function normaliseSerial(hex: string): string {
  return hex.replace(/^0+(?=.)/, '').toUpperCase();
}

function issued(cert: forge.pki.Certificate): IssuedCertificate {
  return {
    pem: forge.pki.certificateToPem(cert),
    serialHex: normaliseSerial(cert.serialNumber),
    notAfter: cert.validity.notAfter,
  };
}

function newCertificate(serialHex: string, days: number, subject: DistinguishedName): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.serialNumber = positiveSerial(serialHex);
  // Back-date a minute so a node whose clock is slightly behind still accepts a fresh cert.
  const now = Date.now() - 60_000;
  cert.validity.notBefore = new Date(now);
  cert.validity.notAfter = new Date(now + days * DAY_MS);
  cert.setSubject(toForgeAttributes(subject));
  return cert;
}

function caExtensions(pathLen: number | undefined, authorityKeyId: string | true): object[] {
  return [
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: authorityKeyId },
    { name: 'basicConstraints', critical: true, cA: true, ...(pathLen === undefined ? {} : { pathLenConstraint: pathLen }) },
    { name: 'keyUsage', critical: true, digitalSignature: true, cRLSign: true, keyCertSign: true },
  ];
}

/** Node's crypto makes the keys (native speed, 4096-bit in well under a second); forge does X.509. */
export class ForgePki implements PkiEngine {
  async generateRsaKey(bits: number): Promise<SecretValue> {
    const { privateKey } = await generateKeyPairAsync('rsa', {
      modulusLength: bits,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    return new SecretValue('private-key', privateKey);
  }

  encryptKey(keyPem: SecretValue, passphrase: SecretValue): string {
    return createPrivateKey(keyPem.reveal())
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: passphrase.reveal() })
      .toString();
  }

  decryptKey(encryptedPem: string, passphrase: SecretValue, source: string): SecretValue {
    let key;
    try {
      key = createPrivateKey({ key: encryptedPem, format: 'pem', passphrase: passphrase.reveal() });
    } catch {
      throw new UserError(`${source}: cannot decrypt the key: wrong ${passphrase.name}, or not a private key`, {
        hints: [`check ${passphrase.name} in the project's .env`],
      });
    }
    return new SecretValue(source, key.export({ type: 'pkcs8', format: 'pem' }).toString());
  }

  selfSignedRootCa(params: { key: SecretValue; subject: DistinguishedName; days: number }): IssuedCertificate {
    const key = forgeKey(params.key);
    // Random serial like `openssl req -x509`; 15 bytes keeps it positive after the 0x7f mask.
    const serial = randomBytes(16);
    serial[0] = (serial[0] ?? 0) & 0x7f;
    const cert = newCertificate(serial.toString('hex'), params.days, params.subject);
    cert.publicKey = publicOf(key);
    cert.setIssuer(toForgeAttributes(params.subject));
    cert.setExtensions(caExtensions(undefined, true));
    cert.sign(key, forge.md.sha256.create());
    return issued(cert);
  }

  csr(params: { key: SecretValue; subject: DistinguishedName }): string {
    const key = forgeKey(params.key);
    const request = forge.pki.createCertificationRequest();
    request.publicKey = publicOf(key);
    request.setSubject(toForgeAttributes(params.subject));
    request.sign(key, forge.md.sha256.create());
    return forge.pki.certificationRequestToPem(request);
  }

  signIntermediateCa(params: {
    issuerKey: SecretValue;
    issuerCertPem: string;
    subjectKey: SecretValue;
    subject: DistinguishedName;
    serialHex: string;
    days: number;
  }): IssuedCertificate {
    const issuerCert = forge.pki.certificateFromPem(params.issuerCertPem);
    const cert = newCertificate(params.serialHex, params.days, params.subject);
    cert.publicKey = publicOf(forgeKey(params.subjectKey));
    cert.setIssuer(issuerCert.subject.attributes);
    const issuerKeyId = issuerCert.generateSubjectKeyIdentifier().getBytes();
    cert.setExtensions(caExtensions(0, issuerKeyId));
    cert.sign(forgeKey(params.issuerKey), forge.md.sha256.create());
    return issued(cert);
  }

  describe(certPem: string): CertificateSummary {
    const cert = forge.pki.certificateFromPem(certPem);
    const constraints = cert.getExtension('basicConstraints') as { cA?: boolean } | null;
    return {
      subject: fromForgeAttributes(cert.subject),
      serialHex: normaliseSerial(cert.serialNumber),
      notAfter: cert.validity.notAfter,
      isCa: constraints?.cA === true,
    };
  }
}
