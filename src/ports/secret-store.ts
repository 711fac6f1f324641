import type { SecretValue } from '../domain/secret-value.js';

/**
 * How a stored secret file is encoded.
 * - `v1`: nix-infra's authenticated encryption (AES-256-GCM, scrypt key derivation).
 * - `legacy-base64`: what the Dart tool actually wrote (base64 text, no encryption at all).
 * - `legacy-openssl`: OpenSSL `enc -aes-256-cbc -pbkdf2 -a` output (`Salted__` header).
 * - `unknown`: a file in secrets/ we cannot interpret (reported, never overwritten silently).
 */
export type SecretFormat = 'v1' | 'legacy-base64' | 'legacy-openssl' | 'unknown';

export interface SecretEntry {
  readonly name: string;
  readonly format: SecretFormat;
  readonly modified: Date;
  readonly sizeBytes: number;
}

/**
 * The project's local secret store (`<project>/secrets/`). Implementations validate names
 * (see domain/names.ts) and write atomically with mode 0600.
 * Errors are UserErrors: a wrong password and a tampered file are distinguished where possible.
 */
export interface SecretStore {
  /** Absolute path of the store folder, for messages. */
  readonly location: string;
  list(): Promise<SecretEntry[]>;
  /** The format of one stored secret, or undefined when it does not exist. */
  formatOf(name: string): Promise<SecretFormat | undefined>;
  /** `password` may be undefined only for formats that need none (legacy-base64). */
  read(name: string, password: SecretValue | undefined): Promise<SecretValue>;
  /** Encrypts in the current format and replaces any existing secret of that name. */
  write(value: SecretValue, password: SecretValue): Promise<void>;
}
