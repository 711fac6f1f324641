import type { DistinguishedName } from '../../ports/pki.js';

/**
 * Pure helpers that keep `serial` and `index.txt` exactly as `openssl ca` keeps them, so that
 * certificates issued by nix-infra and by a hand-run `openssl ca` never reuse a serial.
 */

/** `serial` holds the next serial in uppercase hex followed by a newline. */
export function parseSerialFile(text: string): string {
  const serial = text.trim();
  if (!/^[0-9A-Fa-f]+$/.test(serial)) throw new Error(`not a hex serial: ${JSON.stringify(serial)}`);
  return serial.toUpperCase();
}

export function nextSerial(serialHex: string): string {
  const next = (BigInt(`0x${serialHex}`) + 1n).toString(16).toUpperCase();
  // openssl keeps an even number of digits.
  return next.length % 2 === 1 ? `0${next}` : next;
}

/** openssl's one-line subject form: `/C=SE/ST=x/O=y/CN=z/emailAddress=e`. */
export function opensslSubject(dn: DistinguishedName): string {
  const escape = (value: string): string => value.replace(/[/\\]/g, (c) => `\\${c}`);
  return `/C=${escape(dn.country)}/ST=${escape(dn.state)}/O=${escape(dn.organization)}/CN=${escape(dn.commonName)}/emailAddress=${escape(dn.email)}`;
}

/** ASN.1 time as openssl prints it: UTCTime (YYMMDDHHMMSSZ) until 2049, GeneralizedTime after. */
export function opensslTime(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  const year = date.getUTCFullYear();
  const rest = `${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}Z`;
  return year < 2050 ? `${String(year).slice(2)}${rest}` : `${year}${rest}`;
}

/** One `index.txt` line for a valid certificate: status, expiry, revocation (empty), serial, file, subject. */
export function indexLine(params: { notAfter: Date; serialHex: string; subject: DistinguishedName }): string {
  return `V\t${opensslTime(params.notAfter)}\t\t${params.serialHex}\tunknown\t${opensslSubject(params.subject)}\n`;
}

/**
 * Marks still-valid (`V`) entries as revoked with reason `superseded`, the way
 * `openssl ca -revoke -crl_reason superseded` records it: those whose serial is in `serials`
 * or whose subject is `subject`. A re-issued certificate thus leaves exactly one valid entry per
 * subject, which `openssl ca` requires (unique_subject) and `openssl ca -gencrl` lists.
 * Lines it does not understand are kept as they are.
 */
export function supersedeEntries(
  indexText: string,
  match: { readonly serials: readonly string[]; readonly subject: string },
  when: Date,
): { text: string; superseded: string[] } {
  const norm = (hex: string): string => hex.replace(/^0+(?=.)/, '').toUpperCase();
  const serials = new Set(match.serials.map(norm));
  const superseded: string[] = [];
  const lines = indexText.split('\n').map((line) => {
    const fields = line.split('\t');
    const [status, , , serial, , subject] = fields;
    if (fields.length !== 6 || status !== 'V' || serial === undefined) return line;
    if (!serials.has(norm(serial)) && subject !== match.subject) return line;
    superseded.push(serial);
    fields[0] = 'R';
    fields[2] = `${opensslTime(when)},superseded`;
    return fields.join('\t');
  });
  return { text: lines.join('\n'), superseded };
}
