import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto';

/**
 * OpenSSH's private key format ("openssh-key-v1", unencrypted) for Ed25519 keys, written from a
 * Node KeyObject. ssh2's own generator drops a leading zero byte from the public key (about one
 * key in 128 comes out unreadable by OpenSSH: "error in libcrypto"), so we serialise it ourselves.
 * Layout: PROTOCOL.key in the OpenSSH sources.
 */

function sshString(data: Buffer | string): Buffer {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function uint32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value);
  return out;
}

/** The 32-byte seed and 32-byte public key of an Ed25519 private KeyObject. */
function ed25519Parts(privateKey: KeyObject): { seed: Buffer; pub: Buffer } {
  const jwk = privateKey.export({ format: 'jwk' });
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || jwk.d === undefined || jwk.x === undefined) {
    throw new Error('internal: not an Ed25519 private key');
  }
  return { seed: Buffer.from(jwk.d, 'base64url'), pub: Buffer.from(jwk.x, 'base64url') };
}

export function ed25519PublicLine(privateKey: KeyObject, comment: string): string {
  const { pub } = ed25519Parts(privateKey);
  const blob = Buffer.concat([sshString('ssh-ed25519'), sshString(pub)]);
  return `ssh-ed25519 ${blob.toString('base64')} ${comment}`;
}

export function ed25519PrivatePem(privateKey: KeyObject, comment: string): string {
  const { seed, pub } = ed25519Parts(privateKey);
  // Sanity check that the public half really belongs to this key.
  const derived = createPublicKey(privateKey).export({ format: 'jwk' }).x;
  if (derived === undefined || !Buffer.from(derived, 'base64url').equals(pub)) throw new Error('internal: Ed25519 public key mismatch');

  const publicBlob = Buffer.concat([sshString('ssh-ed25519'), sshString(pub)]);
  const check = randomBytes(4).readUInt32BE(0);
  let section = Buffer.concat([
    uint32(check),
    uint32(check),
    sshString('ssh-ed25519'),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ]);
  // Pad with 1, 2, 3, ... to the cipher block size (8 for "none").
  const padding = (8 - (section.length % 8)) % 8;
  section = Buffer.concat([section, Buffer.from(Array.from({ length: padding }, (_, i) => i + 1))]);

  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0', 'latin1'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    uint32(1),
    sshString(publicBlob),
    sshString(section),
  ]);
  const lines = body.toString('base64').match(/.{1,70}/g) ?? [];
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`;
}
