import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { chmod, mkdir, open, readdir, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

import { OperationFailed, UserError } from '../../domain/errors.js';
import { secretNameProblem } from '../../domain/names.js';
import { SecretValue } from '../../domain/secret-value.js';
import { isLegacyFormat, type PendingRekey, type ReadOptions, type SecretEntry, type SecretFormat, type SecretStore, type StoreLock } from '../../ports/secret-store.js';
import { CrashPoints } from './crash-points.js';
import { decodeV1, encodeV1, parseV1, SecretDecodeError, sniffV1 } from './format-v1.js';
import { decodeLegacyBase64, decryptLegacyOpenssl, sniffLegacy } from './legacy-formats.js';
import { RekeySwitch } from './rekey-switch.js';
import { DEFAULT_LOCK_TIMING, StoreLockFile, type LockTiming } from './store-lock.js';

export interface FsSecretStoreOptions {
  readonly lockTiming?: LockTiming;
  /** Test only: SIGKILL this process after that many rekey file operations (see CrashPoints). */
  readonly crashAfterOps?: number;
}

/** Enough to recognise every format; legacy files longer than this are judged by their start. */
const SNIFF_BYTES = 64 * 1024;

function errorCode(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/** fs errors name paths and errno codes, never file contents, so they are safe to show. */
function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sniffFormat(head: Buffer, complete: boolean): SecretFormat {
  const v1 = sniffV1(head);
  if (v1 === 'v1') return 'v1';
  if (v1 === 'unsupported') return 'unknown';
  return sniffLegacy(head, complete) ?? 'unknown';
}

/**
 * The project's `secrets/` folder: one file per secret, named exactly like the secret (the
 * deploy step relies on that). New values are always written as v1; legacy files are read only
 * when the caller asks for it (ReadOptions.allowLegacy). The lock file and the rekey switch
 * live in the same folder as dot files, which are never secrets.
 */
export class FsSecretStore implements SecretStore {
  readonly location: string;
  private readonly switcher: RekeySwitch;
  private readonly lockFile: StoreLockFile;

  /** @param dir absolute path of `<project>/secrets` */
  constructor(dir: string, options: FsSecretStoreOptions = {}) {
    this.location = dir;
    this.switcher = new RekeySwitch(dir, new CrashPoints(options.crashAfterOps));
    this.lockFile = new StoreLockFile(dir, options.lockTiming ?? DEFAULT_LOCK_TIMING);
  }

  /** Without a secrets folder there is nothing to protect, and a read must not create one. */
  async lock(purpose: string): Promise<StoreLock> {
    if ((await this.inspect(this.location)) === undefined) return { release: async () => undefined };
    return this.lockFile.acquire(purpose);
  }

  async pendingRekey(): Promise<PendingRekey | undefined> {
    return this.switcher.state();
  }

  async recoverRekey(): Promise<'finished' | 'rolled-back' | undefined> {
    return this.switcher.recover();
  }

  async replaceAll(values: readonly SecretValue[], password: SecretValue): Promise<void> {
    if (password.byteLength === 0) {
      throw new UserError('the new secrets password is empty; refusing to encrypt with it');
    }
    if ((await this.pendingRekey()) !== undefined) throw this.pendingError();
    // Encrypt everything before touching the disk.
    const files: { name: string; content: string }[] = [];
    for (const value of values) {
      this.pathOf(value.name);
      files.push({ name: value.name, content: await encodeV1(value.name, value.reveal(), password.reveal()) });
    }
    try {
      await this.switcher.replaceAll(files);
    } catch (err) {
      if (err instanceof UserError) throw err;
      throw new OperationFailed(`re-keying ${this.location} stopped: ${describe(err)}`, [
        'run `nix-infra secrets rekey` again: it finishes or rolls back the interrupted switch first',
      ]);
    }
  }

  private pendingError(): UserError {
    return new UserError(`${this.location}: an interrupted \`secrets rekey\` is pending (${this.switcher.staging})`, {
      hints: ['run `nix-infra secrets rekey` again: it finishes the switch (or rolls it back) before anything else'],
    });
  }

  async list(): Promise<SecretEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.location);
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return [];
      throw new OperationFailed(`cannot list ${this.location}: ${describe(err)}`);
    }
    const entries: SecretEntry[] = [];
    for (const name of names) {
      if (name.startsWith('.')) continue; // our temp files (and editor droppings)
      // During an unfinished switch the staged file is the secret (see RekeySwitch).
      const found = secretNameProblem(name) === undefined ? await this.inspect(await this.switcher.effectivePath(name)) : await this.inspect(path.join(this.location, name));
      if (found === undefined || !found.info.isFile()) continue;
      // A file whose name we would refuse (upstream allowed any name) is shown, not read.
      const format = secretNameProblem(name) === undefined ? found.format : 'unknown';
      entries.push({ name, format, modified: found.info.mtime, sizeBytes: found.info.size });
    }
    // Code-unit order, not locale order: the listing is the same on every machine.
    return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async formatOf(name: string): Promise<SecretFormat | undefined> {
    this.pathOf(name);
    return (await this.inspect(await this.switcher.effectivePath(name)))?.format;
  }

  async read(name: string, password: SecretValue | undefined, options: ReadOptions = {}): Promise<SecretValue> {
    this.pathOf(name);
    const file = await this.switcher.effectivePath(name);
    let content: Buffer;
    try {
      content = await readFile(file);
    } catch (err) {
      if (errorCode(err) === 'ENOENT') {
        throw new UserError(`secret "${name}" not found in ${this.location}`, {
          hints: [`Store it with: nix-infra secrets store --name ${name}`],
        });
      }
      if (errorCode(err) === 'EISDIR') throw this.unknownFormat(file);
      throw new UserError(`cannot read ${file}: ${describe(err)}`, { hints: ['check its owner and permissions (nix-infra writes 0600 files)'] });
    }
    try {
      if (content.length === 0) {
        throw new UserError(`${this.label(name)} is empty; an empty file is never used as a secret`, {
          hints: [`store the value with: nix-infra secrets store --name ${name}`, `or remove ${file} if the secret is no longer needed`],
        });
      }
      const format = sniffFormat(content, true);
      if (isLegacyFormat(format) && options.allowLegacy !== true) throw this.legacyRefused(name, format);
      const plain = await this.decode(name, file, content, password);
      const value = new SecretValue(name, plain); // copies
      plain.fill(0);
      return value;
    } catch (err) {
      throw err instanceof SecretDecodeError ? this.decodeFailure(name, err) : err;
    } finally {
      content.fill(0);
    }
  }

  async write(value: SecretValue, password: SecretValue): Promise<void> {
    const name = value.name;
    const target = this.pathOf(name);
    if (password.byteLength === 0) {
      throw new UserError('the secrets password (SECRETS_PASS) is empty; refusing to encrypt with it');
    }
    if ((await this.pendingRekey()) !== undefined) throw this.pendingError();
    if ((await this.formatOf(name)) === 'unknown') {
      throw new UserError(`${target} exists but is not a secret file nix-infra recognises; not overwriting it`, {
        hints: ['Move it out of the secrets folder, then store the secret again.'],
      });
    }
    // Encrypt before touching the disk, so a failure here leaves nothing behind.
    const content = await encodeV1(name, value.reveal(), password.reveal());
    await this.ensureFolder();
    await this.replaceAtomically(name, target, content);
  }

  /** Validates first, so a name like `../x` never reaches the filesystem. */
  private pathOf(name: string): string {
    const problem = secretNameProblem(name);
    if (problem !== undefined) {
      throw new UserError(`invalid secret name ${JSON.stringify(name)}: ${problem}`);
    }
    return path.join(this.location, name);
  }

  private label(name: string): string {
    return `${path.basename(this.location)}/${name}`;
  }

  /** Format and stat of one path, reading only its first bytes; undefined when it is missing. */
  private async inspect(file: string): Promise<{ format: SecretFormat; info: Stats } | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (err) {
      const code = errorCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw new OperationFailed(`cannot open ${file}: ${describe(err)}`);
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) return { format: 'unknown', info };
      const head = Buffer.alloc(Math.min(info.size, SNIFF_BYTES));
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      const format = sniffFormat(head.subarray(0, bytesRead), bytesRead >= info.size);
      head.fill(0);
      return { format, info };
    } finally {
      await handle.close();
    }
  }

  private async decode(
    name: string,
    file: string,
    content: Buffer,
    password: SecretValue | undefined,
  ): Promise<Buffer> {
    const format = sniffFormat(content, true);
    if (format === 'legacy-base64') return decodeLegacyBase64(content);
    if (format === 'unknown') {
      // Another version of our own format gets a precise message from the parser.
      if (sniffV1(content) === 'unsupported') parseV1(content.toString('utf8'));
      throw this.unknownFormat(file);
    }
    if (password === undefined) {
      throw new UserError(`${this.label(name)} is encrypted; SECRETS_PASS is needed to read it`, {
        hints: ['Set SECRETS_PASS in the environment or in .env, or run without --batch to be prompted.'],
      });
    }
    return format === 'v1'
      ? decodeV1(name, content.toString('utf8'), password.reveal())
      : decryptLegacyOpenssl(content, password.reveal());
  }

  private decodeFailure(name: string, err: SecretDecodeError): UserError {
    const label = this.label(name);
    switch (err.failure) {
      case 'wrong-password':
        return new UserError(`${label}: wrong password (SECRETS_PASS)`, {
          hints: [
            'Use the password the secret was stored with.',
            'If the password is right, the start of the file (salt or password check) was damaged.',
          ],
        });
      case 'tampered':
        return new UserError(`${label}: the file is corrupted or was modified (authentication failed)`, {
          hints: [
            'A secret file renamed or copied from another secret name fails this check too.',
            `Store the value again with: nix-infra secrets store --name ${name}`,
          ],
        });
      case 'malformed':
        return new UserError(`${label}: the file is corrupted or was modified (${err.detail})`, {
          hints: [`Store the value again with: nix-infra secrets store --name ${name}`],
        });
      case 'unsupported':
        return new UserError(`${label}: this version of nix-infra cannot read it (${err.detail})`, {
          hints: ['It may have been written by a newer nix-infra: upgrade, or store the value again.'],
        });
    }
  }

  private legacyRefused(name: string, format: SecretFormat): UserError {
    const what = format === 'legacy-base64' ? 'only base64, not encrypted' : 'OpenSSL CBC, not authenticated';
    return new UserError(`${this.label(name)} is in the Dart tool's legacy format (${what}); it is not used without an explicit import`, {
      hints: [
        'anyone who can write the secrets folder can plant such a file without the password',
        `if it is yours: nix-infra secrets import --name ${name} (encrypts it under SECRETS_PASS)`,
        'or deploy once with --allow-legacy-secrets, which names every legacy file it uses',
      ],
    });
  }

  private unknownFormat(file: string): UserError {
    return new UserError(`${file} is not in a secret format nix-infra recognises`, {
      hints: ['It was not written by nix-infra or by its predecessor; store the value again under this name.'],
    });
  }

  /** Creates the folder owner-only; an existing folder's mode is the operator's choice. */
  private async ensureFolder(): Promise<void> {
    try {
      await mkdir(this.location, { mode: 0o700 });
    } catch (err) {
      if (errorCode(err) === 'EEXIST') return;
      throw new OperationFailed(`cannot create ${this.location}: ${describe(err)}`);
    }
    // mkdir's mode is filtered by the umask; make it exact.
    await chmod(this.location, 0o700);
  }

  /**
   * Writes a 0600 temp file next to the target, fsyncs it and renames it over the target.
   * rename needs write access to the folder only, so an old 0400 file (as upstream left them)
   * is replaced too. Readers see the old or the new secret, never half of one.
   */
  private async replaceAtomically(name: string, target: string, content: string): Promise<void> {
    const temp = path.join(this.location, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
    let handle: FileHandle | undefined;
    try {
      handle = await open(temp, 'wx', 0o600);
      await handle.chmod(0o600);
      await handle.writeFile(content, 'utf8');
      await handle.sync();
      await handle.close();
      handle = undefined;
      await this.commit(temp, target);
    } catch (err) {
      await handle?.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      throw new OperationFailed(`could not write ${this.label(name)}: ${describe(err)}`);
    }
    await this.syncFolder();
  }

  /** The final step. Protected as a seam: tests make it fail once the temp file exists. */
  protected async commit(temp: string, target: string): Promise<void> {
    await rename(temp, target);
  }

  /** Makes the rename itself durable. Best effort: not every platform can fsync a folder. */
  private async syncFolder(): Promise<void> {
    const dir = await open(this.location, 'r').catch(() => undefined);
    await dir?.sync().catch(() => undefined);
    await dir?.close().catch(() => undefined);
  }
}
