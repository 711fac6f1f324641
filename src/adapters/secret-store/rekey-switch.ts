import { mkdir, open, readdir, readFile, rename, rmdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';

import { UserError } from '../../domain/errors.js';
import { secretNameProblem } from '../../domain/names.js';
import type { PendingRekey } from '../../ports/secret-store.js';
import type { CrashPoints } from './crash-points.js';

/**
 * The all-or-nothing switch behind `secrets rekey` (decision 0013). Every new file is written
 * and fsynced into `secrets/.rekey/` first; the live files are untouched. The one step that
 * switches is the rename of `.rekey-journal.tmp` to `.rekey-journal`: before it the old files
 * are the store, after it the new ones are (readers take a journaled name from `.rekey/`), and
 * moving the new files over the old ones only makes that physical, one rename per file, in a way
 * any later run can repeat. The journal is removed last, so it exists exactly from the switch to
 * the end. After a crash at any point:
 * - no journal but `.rekey/` (or the journal's temp file): roll back (nothing had switched);
 * - a journal: finish (move what is still staged, remove the folder, then the journal).
 * Neither needs a password.
 */

const JOURNAL_FORMAT = 'nix-infra-rekey v1';

function errorCode(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

export interface StagedFile {
  readonly name: string;
  readonly content: string;
}

export class RekeySwitch {
  readonly staging: string;
  private readonly journal: string;
  private readonly journalTemp: string;

  constructor(
    private readonly folder: string,
    private readonly crash: CrashPoints,
  ) {
    this.staging = path.join(folder, '.rekey');
    this.journal = path.join(folder, '.rekey-journal');
    this.journalTemp = `${this.journal}.tmp`;
  }

  async state(): Promise<PendingRekey | undefined> {
    if ((await this.exists(this.journal)) !== undefined) return 'committed';
    return (await this.exists(this.staging)) === undefined && (await this.exists(this.journalTemp)) === undefined ? undefined : 'staged';
  }

  /** Where `name` is read from: its staged file once the switch is committed, else the live one. */
  async effectivePath(name: string): Promise<string> {
    const live = path.join(this.folder, name);
    if ((await this.state()) !== 'committed') return live;
    const staged = path.join(this.staging, name);
    return (await this.names()).includes(name) && (await this.exists(staged)) === 'file' ? staged : live;
  }

  /** Writes every file, then switches; the caller holds the store lock. */
  async replaceAll(files: readonly StagedFile[]): Promise<void> {
    await mkdir(this.staging, { mode: 0o700 });
    this.crash.passed();
    for (const file of files) await this.writeDurably(path.join(this.staging, file.name), file.content);
    await this.syncFolder(this.staging);
    await this.writeDurably(this.journalTemp, `${JSON.stringify({ format: JOURNAL_FORMAT, names: files.map((f) => f.name) })}\n`);
    await rename(this.journalTemp, this.journal); // the switch
    this.crash.passed();
    await this.syncFolder(this.folder);
    await this.finish();
  }

  /** Completes or undoes an interrupted replaceAll; undefined when there was none. */
  async recover(): Promise<'finished' | 'rolled-back' | undefined> {
    const state = await this.state();
    if (state === 'committed') {
      await this.finish();
      return 'finished';
    }
    if (state === 'staged') {
      await this.rollBack();
      return 'rolled-back';
    }
    return undefined;
  }

  /** Idempotent: a file already moved is skipped, so a crash in here is finished by rerunning it. */
  private async finish(): Promise<void> {
    for (const name of await this.names()) {
      try {
        await rename(path.join(this.staging, name), path.join(this.folder, name));
        this.crash.passed();
      } catch (err) {
        if (errorCode(err) !== 'ENOENT') throw err;
      }
    }
    await this.syncFolder(this.folder);
    await this.removeStaging();
    await unlink(this.journal);
    this.crash.passed();
    await this.syncFolder(this.folder);
  }

  private async rollBack(): Promise<void> {
    await this.removeStaging();
    await unlink(this.journalTemp).catch((err: unknown) => {
      if (errorCode(err) !== 'ENOENT') throw err;
    });
    this.crash.passed();
    await this.syncFolder(this.folder);
  }

  /** Whatever is left in the folder (a half-written file) goes with it. */
  private async removeStaging(): Promise<void> {
    for (const entry of await readdir(this.staging).catch(() => [])) {
      await unlink(path.join(this.staging, entry)).catch((err: unknown) => {
        if (errorCode(err) !== 'ENOENT') throw err;
      });
      this.crash.passed();
    }
    await rmdir(this.staging).catch((err: unknown) => {
      if (errorCode(err) !== 'ENOENT') throw err;
    });
    this.crash.passed();
    await this.syncFolder(this.folder);
  }

  /** The journal's names, each checked: a damaged journal must not move files anywhere else. */
  private async names(): Promise<string[]> {
    let parsed: { format?: unknown; names?: unknown };
    try {
      parsed = JSON.parse(await readFile(this.journal, 'utf8')) as typeof parsed;
    } catch (err) {
      throw new UserError(`${this.journal} cannot be read (${(err as Error).message}); an interrupted re-key cannot be finished`, {
        hints: [`restore ${this.folder} from a backup, or move ${this.journal} and ${this.staging} away to keep the old files`],
      });
    }
    const names = parsed.names;
    if (parsed.format !== JOURNAL_FORMAT || !Array.isArray(names) || names.some((n) => typeof n !== 'string' || secretNameProblem(n) !== undefined)) {
      throw new UserError(`${this.journal} is not a re-key journal nix-infra wrote`, {
        hints: [`move ${this.journal} and ${this.staging} out of the secrets folder and check the store with \`nix-infra secrets list\``],
      });
    }
    return names as string[];
  }

  private async writeDurably(file: string, content: string): Promise<void> {
    const handle = await open(file, 'wx', 0o600);
    try {
      this.crash.passed();
      await handle.writeFile(content, 'utf8');
      this.crash.passed();
      await handle.sync();
    } finally {
      await handle.close();
    }
    this.crash.passed();
  }

  private async exists(file: string): Promise<'file' | 'dir' | 'other' | undefined> {
    try {
      const info = await stat(file);
      return info.isFile() ? 'file' : info.isDirectory() ? 'dir' : 'other';
    } catch (err) {
      if (errorCode(err) === 'ENOENT' || errorCode(err) === 'ENOTDIR') return undefined;
      throw err;
    }
  }

  /** Makes renames durable. Best effort: not every platform can fsync a folder. */
  private async syncFolder(folder: string): Promise<void> {
    const dir = await open(folder, 'r').catch(() => undefined);
    await dir?.sync().catch(() => undefined);
    await dir?.close().catch(() => undefined);
  }
}
