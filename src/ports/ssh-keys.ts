import type { SecretValue } from '../domain/secret-value.js';

export type SshKeyType = 'ed25519' | 'rsa';

export interface SshKeyPair {
  /** OpenSSH private key format, unencrypted. */
  readonly privateKey: SecretValue;
  /** One line: `<type> <base64> <comment>`. */
  readonly publicKey: string;
}

export interface SshKeyFactory {
  generate(type: SshKeyType, comment: string): Promise<SshKeyPair>;
}
