import { X509Certificate, createPrivateKey, generateKeyPair, randomBytes } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { promisify } from 'node:util';
import forge from 'node-forge';
import { UserError } from '../domain/errors.js';
import { SecretValue } from '../domain/secret-value.js';
import type {
  CertificateSummary,
  DistinguishedName,
  IssuedCertificate,
  LeafCertificateSummary,
  LeafUsage,
  PkiEngine,
  SignLeafParams,
  SubjectAltNames,
} from '../ports/pki.js';

const generateKeyPairAsync = promisify(generateKeyPair);
const DAY_MS = 24 * 60 * 60 * 1000;

const ASN1 = forge.asn1.Type;

/** @types/node-forge types valueTagClass as asn1.Class, but forge reads it as a universal tag (asn1.Type). */
function tag(type: forge.asn1.Type): forge.asn1.Class {
  return type as unknown as forge.asn1.Class;
}

const isAscii = (value: string): boolean => /^[\x00-\x7f]*$/.test(value);

/**
 * Subject attributes in upstream's order; openssl's index.txt lists them the same way. String
 * types are what `openssl req` writes with `string_mask utf8only`: countryName PrintableString,
 * emailAddress IA5String, the rest UTF8String. (forge's default, PrintableString everywhere,
 * puts an e-mail's `@` where Go's x509 parser refuses it, so etcd could not load the chain.)
 */
function toForgeAttributes(dn: DistinguishedName): forge.pki.CertificateField[] {
  return [
    { shortName: 'C', value: dn.country, valueTagClass: tag(ASN1.PRINTABLESTRING) },
    { shortName: 'ST', value: dn.state, valueTagClass: tag(ASN1.UTF8) },
    { shortName: 'O', value: dn.organization, valueTagClass: tag(ASN1.UTF8) },
    { shortName: 'CN', value: dn.commonName, valueTagClass: tag(ASN1.UTF8) },
    { name: 'emailAddress', value: dn.email, valueTagClass: tag(isAscii(dn.email) ? ASN1.IA5STRING : ASN1.UTF8) },
  ];
}

/** forge keeps parsed attribute values as raw bytes; UTF8String ones are decoded here. */
function attributeText(field: forge.pki.CertificateField | null | undefined): string {
  if (field === null || field === undefined) return '';
  const value = String(field.value ?? '');
  return (field.valueTagClass as unknown) === ASN1.UTF8 ? forge.util.decodeUtf8(value) : value;
}

function fromForgeAttributes(subject: forge.pki.Certificate['subject']): DistinguishedName {
  const get = (key: string): string => attributeText(subject.getField(key) as forge.pki.CertificateField | null);
  return {
    country: get('C'),
    state: get('ST'),
    organization: get('O'),
    commonName: get('CN'),
    email: attributeText(subject.getField({ name: 'emailAddress' }) as forge.pki.CertificateField | null),
  };
}

/**
 * The issuer's subject as attributes that forge re-encodes to the same bytes. forge would
 * UTF-8-encode a parsed UTF8String value a second time; Go (etcd) finds a certificate's issuer by
 * comparing these bytes exactly, so they must survive the round trip.
 */
function issuerAttributes(issuer: forge.pki.Certificate): forge.pki.CertificateField[] {
  return issuer.subject.attributes.map((attr: forge.pki.CertificateField) =>
    (attr.valueTagClass as unknown) === ASN1.UTF8 ? { ...attr, value: forge.util.decodeUtf8(String(attr.value ?? '')) } : attr,
  );
}

/** The key identifier to name in a certificate issued by `issuer`: its SKI, else the SHA-1 openssl would use. */
function authorityKeyId(issuer: forge.pki.Certificate): string {
  const ski = issuer.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | null;
  return ski?.subjectKeyIdentifier !== undefined
    ? forge.util.hexToBytes(ski.subjectKeyIdentifier)
    : issuer.generateSubjectKeyIdentifier().getBytes();
}

/** IP text to the 4 or 16 bytes of an iPAddress GeneralName (as a forge binary string). */
function ipBytes(ip: string): string {
  if (isIPv4(ip)) return String.fromCharCode(...ip.split('.').map(Number));
  if (!isIPv6(ip)) throw new Error(`not an IP address: ${JSON.stringify(ip)}`);
  let text = ip;
  // An embedded IPv4 tail (::ffff:192.0.2.1) becomes two hex groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4 !== null) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = new Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  const groups = [...headGroups, ...(tail === undefined ? [] : zeros), ...tailGroups];
  return groups.map((g) => {
    const n = parseInt(g, 16);
    return String.fromCharCode(n >> 8, n & 0xff);
  }).join('');
}

/** iPAddress bytes to text: IPv4 dotted, IPv6 as eight uncompressed hex groups. */
function ipText(bytes: string): string | undefined {
  const codes = Array.from(bytes, (c) => c.charCodeAt(0));
  if (codes.length === 4) return codes.join('.');
  if (codes.length !== 16) return undefined;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((codes[i] ?? 0) << 8) | (codes[i + 1] ?? 0)).toString(16));
  return groups.join(':');
}

/** Key usage bits per leaf kind, as upstream's client_tls and peer_tls sections set them. */
function leafKeyUsage(usage: LeafUsage): Record<string, boolean> {
  switch (usage) {
    case 'server-client':
      return { digitalSignature: true, nonRepudiation: true, keyEncipherment: true };
    case 'peer':
      return { digitalSignature: true, keyEncipherment: true };
    case 'client':
      return { digitalSignature: true };
  }
}

function leafExtendedKeyUsage(usage: LeafUsage): Record<string, boolean> {
  return usage === 'client' ? { clientAuth: true } : { serverAuth: true, clientAuth: true };
}

/** Characters Go's x509 parser accepts in a PrintableString (the X.680 set plus `*` and `&`). */
const GO_PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?*&]*$/;

/** The DER of a certificate's issuer or subject Name, exactly as signed. */
function rawName(certPem: string, which: 'issuer' | 'subject'): string {
  const asn1 = forge.asn1.fromDer(forge.pem.decode(certPem)[0]?.body ?? '');
  const tbs = (asn1.value as forge.asn1.Asn1[])[0];
  const fields = (tbs?.value ?? []) as forge.asn1.Asn1[];
  // TBSCertificate: [0] version (optional), serial, signature, issuer, validity, subject, ...
  const offset = fields[0]?.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC ? 1 : 0;
  const name = fields[offset + (which === 'issuer' ? 2 : 4)];
  if (name === undefined) throw new Error('not an X.509 certificate');
  return forge.asn1.toDer(name).getBytes();
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
    cert.setIssuer(issuerAttributes(issuerCert));
    cert.setExtensions(caExtensions(0, authorityKeyId(issuerCert)));
    cert.sign(forgeKey(params.issuerKey), forge.md.sha256.create());
    return issued(cert);
  }

  signLeaf(params: SignLeafParams): IssuedCertificate {
    const issuerCert = forge.pki.certificateFromPem(params.issuerCertPem);
    const cert = newCertificate(params.serialHex, params.days, params.subject);
    cert.publicKey = publicOf(forgeKey(params.subjectKey));
    cert.setIssuer(issuerAttributes(issuerCert));
    const altNames = [
      ...params.sans.dnsNames.map((name) => ({ type: 2, value: name })),
      // type 7 with a raw value: forge's own IP parser is not used.
      ...params.sans.ips.map((ip) => ({ type: 7, value: ipBytes(ip) })),
    ];
    // nsCertType/nsComment from upstream's openssl sections are left out: nsCertType "client"
    // makes openssl refuse the cert as a TLS server, and both are obsolete.
    cert.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'subjectKeyIdentifier' },
      { name: 'authorityKeyIdentifier', keyIdentifier: authorityKeyId(issuerCert) },
      { name: 'keyUsage', critical: true, ...leafKeyUsage(params.usage) },
      { name: 'extKeyUsage', ...leafExtendedKeyUsage(params.usage) },
      // An empty SubjectAltName is invalid DER; a pure client identity has none.
      ...(altNames.length > 0 ? [{ name: 'subjectAltName', altNames }] : []),
    ]);
    cert.sign(forgeKey(params.issuerKey), forge.md.sha256.create());
    return issued(cert);
  }

  inspectLeaf(certPem: string): LeafCertificateSummary {
    const cert = forge.pki.certificateFromPem(certPem);
    const san = cert.getExtension('subjectAltName') as { altNames?: Array<{ type: number; value: string }> } | null;
    const ips: string[] = [];
    const dnsNames: string[] = [];
    for (const altName of san?.altNames ?? []) {
      if (altName.type === 2) dnsNames.push(altName.value);
      if (altName.type === 7) {
        const ip = ipText(altName.value);
        if (ip !== undefined) ips.push(ip);
      }
    }
    const eku = cert.getExtension('extKeyUsage') as Record<string, unknown> | null;
    const extendedKeyUsage = Object.entries(eku ?? {})
      .filter(([key, value]) => value === true && key !== 'critical')
      .map(([key]) => key);
    const sans: SubjectAltNames = { ips, dnsNames };
    return { ...this.describe(certPem), notBefore: cert.validity.notBefore, sans, extendedKeyUsage };
  }

  keyMatchesCertificate(key: SecretValue, certPem: string): boolean {
    try {
      return new X509Certificate(certPem).checkPrivateKey(createPrivateKey(key.reveal()));
    } catch {
      return false;
    }
  }

  isIssuedBy(certPem: string, issuerCertPem: string): boolean {
    try {
      const cert = new X509Certificate(certPem);
      const issuer = new X509Certificate(issuerCertPem);
      // openssl compares names loosely; Go compares the bytes, so both must hold.
      return (
        rawName(certPem, 'issuer') === rawName(issuerCertPem, 'subject') &&
        cert.checkIssued(issuer) &&
        cert.verify(issuer.publicKey)
      );
    } catch {
      return false;
    }
  }

  nameEncodingProblem(certPem: string): string | undefined {
    const cert = forge.pki.certificateFromPem(certPem);
    for (const [where, name] of [['subject', cert.subject], ['issuer', cert.issuer]] as const) {
      for (const attr of name.attributes as forge.pki.CertificateField[]) {
        const value = String(attr.value ?? '');
        if ((attr.valueTagClass as unknown) === ASN1.PRINTABLESTRING && !GO_PRINTABLE.test(value)) {
          return `its ${where} stores ${attr.name ?? attr.shortName ?? attr.type} ${JSON.stringify(value)} as a PrintableString, which cannot hold these characters`;
        }
      }
    }
    return undefined;
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
