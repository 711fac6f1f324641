import { promisify } from 'node:util';
import ssh2 from 'ssh2';
import { SecretValue } from '../domain/secret-value.js';
import type { SshKeyFactory, SshKeyPair, SshKeyType } from '../ports/ssh-keys.js';

const generate = promisify(
  (type: SshKeyType, opts: { comment: string; bits?: number }, cb: (err: Error | null, pair: ssh2.utils.KeyPairReturn) => void) =>
    type === 'rsa'
      ? ssh2.utils.generateKeyPair('rsa', { bits: opts.bits ?? 4096, comment: opts.comment }, cb)
      : ssh2.utils.generateKeyPair('ed25519', { comment: opts.comment }, cb),
);

/**
 * Key pairs in OpenSSH's own format, made in-process (no ssh-keygen needed on the workstation),
 * readable by OpenSSH and by ssh2. RSA keys are 4096-bit; ed25519 is the default.
 */
export class Ssh2KeyFactory implements SshKeyFactory {
  async generate(type: SshKeyType, comment: string): Promise<SshKeyPair> {
    const pair = await generate(type, { comment });
    return { privateKey: new SecretValue('ssh-private-key', pair.private), publicKey: pair.public.trim() };
  }
}
