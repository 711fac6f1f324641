import { generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import ssh2 from 'ssh2';
import { SecretValue } from '../domain/secret-value.js';
import type { SshKeyFactory, SshKeyPair, SshKeyType } from '../ports/ssh-keys.js';
import { ed25519PrivatePem, ed25519PublicLine } from './openssh-key-format.js';

function generateEd25519(): Promise<KeyObject> {
  return new Promise((resolve, reject) =>
    generateKeyPair('ed25519', undefined, (err, _publicKey, privateKey) => (err ? reject(err) : resolve(privateKey))),
  );
}

const generateRsa = promisify((comment: string, cb: (err: Error | null, pair: ssh2.utils.KeyPairReturn) => void) =>
  ssh2.utils.generateKeyPair('rsa', { bits: 4096, comment }, cb),
);

/**
 * Key pairs in OpenSSH's own format, made in-process (no ssh-keygen needed on the workstation),
 * readable by OpenSSH and by ssh2. Ed25519 (the default) is serialised by us; RSA (4096-bit) by
 * ssh2, whose RSA output OpenSSH reads correctly.
 */
export class Ssh2KeyFactory implements SshKeyFactory {
  async generate(type: SshKeyType, comment: string): Promise<SshKeyPair> {
    if (type === 'rsa') {
      const pair = await generateRsa(comment);
      return { privateKey: new SecretValue('ssh-private-key', pair.private), publicKey: pair.public.trim() };
    }
    const privateKey = await generateEd25519();
    return {
      privateKey: new SecretValue('ssh-private-key', ed25519PrivatePem(privateKey, comment)),
      publicKey: ed25519PublicLine(privateKey, comment),
    };
  }
}
