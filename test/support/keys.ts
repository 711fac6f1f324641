import { generateKeyPairSync } from 'node:crypto';
import { ed25519PrivatePem, ed25519PublicLine } from '../../src/adapters/openssh-key-format.js';

/**
 * An ed25519 pair in OpenSSH format, serialised by our own writer. ssh2's generateKeyPairSync
 * is not used in tests: about one key in 128 it writes a malformed private key (it drops a
 * leading zero byte), which made tests fail at random.
 */
export function ed25519Pair(comment = 'test'): { private: string; public: string } {
  const { privateKey } = generateKeyPairSync('ed25519');
  return { private: ed25519PrivatePem(privateKey, comment), public: ed25519PublicLine(privateKey, comment) };
}
