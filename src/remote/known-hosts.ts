import { createHash, createHmac } from 'node:crypto';

/**
 * known_hosts in OpenSSH's format, so `ssh -o UserKnownHostsFile=<project>/ssh/known_hosts` agrees
 * with nix-infra. Pure: parsing, matching and formatting; the file itself is an adapter's job.
 */

export interface HostKey {
  /** Key type as in the key blob, e.g. `ssh-ed25519`. */
  readonly type: string;
  /** The key blob, base64. */
  readonly base64: string;
}

interface KnownHostLine {
  readonly patterns: readonly string[];
  readonly key: HostKey;
}

/** How OpenSSH names a host in known_hosts: `addr` on port 22, `[addr]:port` otherwise. */
export function hostPattern(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

/** The key type is the first string inside the blob (uint32 length + bytes). */
export function hostKeyFromBlob(blob: Buffer): HostKey {
  const length = blob.readUInt32BE(0);
  return { type: blob.subarray(4, 4 + length).toString('ascii'), base64: blob.toString('base64') };
}

/** A `.pub` line (`type base64 [comment]`); undefined when the text is not one. */
export function parsePublicKeyLine(text: string): HostKey | undefined {
  const [type, base64] = text.trim().split(/\s+/);
  if (type === undefined || base64 === undefined || !/^(ssh|ecdsa)-[a-z0-9@.-]+$/.test(type) || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return undefined;
  const blob = Buffer.from(base64, 'base64');
  // The type is repeated inside the blob; a line whose two disagree is not a key.
  if (blob.length < 4 || hostKeyFromBlob(blob).type !== type) return undefined;
  return { type, base64 };
}

/** `SHA256:<base64 without padding>`, the form `ssh-keygen -l` prints. */
export function fingerprint(key: HostKey): string {
  return `SHA256:${createHash('sha256').update(Buffer.from(key.base64, 'base64')).digest('base64').replace(/=+$/, '')}`;
}

export function formatLine(pattern: string, key: HostKey): string {
  return `${pattern} ${key.type} ${key.base64}\n`;
}

function parse(text: string): KnownHostLine[] {
  const lines: KnownHostLine[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('@')) continue; // markers (@revoked, @cert-authority) are not used here
    const [hosts, type, base64] = line.split(/\s+/);
    if (hosts === undefined || type === undefined || base64 === undefined) continue;
    lines.push({ patterns: hosts.split(','), key: { type, base64 } });
  }
  return lines;
}

/** Plain patterns and OpenSSH's hashed form `|1|salt|hash` (HashKnownHosts). */
function matches(linePattern: string, wanted: string): boolean {
  if (!linePattern.startsWith('|1|')) return linePattern === wanted;
  const [, , salt, hash] = linePattern.split('|');
  if (salt === undefined || hash === undefined) return false;
  return createHmac('sha1', Buffer.from(salt, 'base64')).update(wanted).digest('base64') === hash;
}

/** Every key recorded for this host (a host may have one per key type). */
export function keysFor(text: string, pattern: string): HostKey[] {
  return parse(text)
    .filter((line) => line.patterns.some((p) => matches(p, pattern)))
    .map((line) => line.key);
}

/** The file without any line for `pattern` (used when an operator accepts a changed key). */
export function withoutHost(text: string, pattern: string): string {
  return text
    .split('\n')
    .filter((raw) => {
      const hosts = raw.trim().split(/\s+/)[0];
      return hosts === undefined || raw.trim().startsWith('#') || !hosts.split(',').some((p) => matches(p, pattern));
    })
    .join('\n');
}
