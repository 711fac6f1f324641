import type { SecretValue } from '../domain/secret-value.js';

/**
 * How a stored secret file is encoded.
 * - `v1`: nix-infra's authenticated encryption (AES-256-GCM, scrypt key derivation).
 * - `legacy-base64`: what the Dart tool actually wrote (base64 text, no encryption at all).
 * - `legacy-openssl`: OpenSSL `enc -aes-256-cbc -pbkdf2 -a` output (`Salted__` header).
 * - `unknown`: a file in secrets/ we cannot interpret (reported, never overwritten silently).
 */
export type SecretFormat = 'v1' | 'legacy-base64' | 'legacy-openssl' | 'unknown';

/** Legacy formats: written by the Dart tool, or by anyone who can write the folder (base64 needs no password). */
export function isLegacyFormat(format: SecretFormat): boolean {
  return format === 'legacy-base64' || format === 'legacy-openssl';
}

export interface ReadOptions {
  /**
   * Upstream's formats are read only when the caller asks for it: an import, a rekey, or a deploy
   * with --allow-legacy-secrets. Otherwise reading one is an input error, because a base64 file
   * can be planted without knowing the password.
   */
  readonly allowLegacy?: boolean;
}

/** A held store lock (see SecretStore.lock). */
export interface StoreLock {
  release(): Promise<void>;
}

/** An interrupted rekey: `staged` (nothing switched yet, to roll back) or `committed` (to finish). */
export type PendingRekey = 'staged' | 'committed';

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
  /**
   * `password` may be undefined only for formats that need none (legacy-base64). An empty file,
   * an unreadable one, or a legacy one without `allowLegacy` is a UserError naming the file.
   */
  read(name: string, password: SecretValue | undefined, options?: ReadOptions): Promise<SecretValue>;
  /** Encrypts in the current format and replaces any existing secret of that name. Refused while a rekey is pending. */
  write(value: SecretValue, password: SecretValue): Promise<void>;
  /**
   * Takes the store's exclusive lock (waiting briefly for another holder). Every command that
   * reads or writes secrets holds it meanwhile, so a write cannot slip into a rekey.
   */
  lock(purpose: string): Promise<StoreLock>;
  /** Whether an interrupted rekey left a staged or committed switch behind. */
  pendingRekey(): Promise<PendingRekey | undefined>;
  /**
   * Re-encrypts every given secret under `password` all-or-nothing: all new files are written
   * first, then one step switches to them. A crash at any point leaves a state that
   * `recoverRekey` finishes or rolls back; until then reads see the old or the new set, never a mix.
   */
  replaceAll(values: readonly SecretValue[], password: SecretValue): Promise<void>;
  /** Finishes a committed switch or rolls back a staged one; undefined when none was pending. */
  recoverRekey(): Promise<'finished' | 'rolled-back' | undefined>;
}
