import { randomBytes } from 'node:crypto';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { OperationFailed } from '../../domain/errors.js';
import type { StoreLock } from '../../ports/secret-store.js';

interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly purpose: string;
  readonly since: string;
  /** Tells our own lock apart from a later holder's, whatever the pid. */
  readonly token: string;
}

function errorCode(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    return typeof value.pid === 'number' && typeof value.host === 'string' && typeof value.token === 'string'
      ? { pid: value.pid, host: value.host, purpose: String(value.purpose), since: String(value.since), token: value.token }
      : undefined;
  } catch {
    return undefined;
  }
}

/** Signal 0 checks existence only; EPERM means the process exists under another user. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errorCode(err) === 'EPERM';
  }
}

export interface LockTiming {
  /** How long to wait for another holder before giving up (readers are brief, a rekey is not). */
  readonly waitMs: number;
  readonly pollMs: number;
}

export const DEFAULT_LOCK_TIMING: LockTiming = { waitMs: 5_000, pollMs: 100 };

/**
 * An exclusive lock on the secrets folder: `secrets/.lock`, holding the owner's pid, host and
 * purpose. It is created complete in a temp file and then hard-linked into place: link() fails
 * when the name exists, which gives O_EXCL semantics without ever exposing a half-written lock.
 * A lock whose process no longer exists on this host (a crash, kill -9) is stale and taken over;
 * a lock from another host cannot be judged and is reported instead.
 */
export class StoreLockFile {
  private readonly file: string;

  constructor(
    folder: string,
    private readonly timing: LockTiming = DEFAULT_LOCK_TIMING,
  ) {
    this.file = path.join(folder, '.lock');
  }

  async acquire(purpose: string): Promise<StoreLock> {
    const owner: LockOwner = { pid: process.pid, host: hostname(), purpose, since: new Date().toISOString(), token: randomBytes(8).toString('hex') };
    const deadline = Date.now() + this.timing.waitMs;
    for (;;) {
      if (await this.tryCreate(owner)) return { release: () => this.release(owner) };
      const holder = await this.holder();
      if (holder === 'gone') continue;
      if (holder !== undefined && holder.host === owner.host && !alive(holder.pid)) {
        await this.takeOverStale(holder);
        continue;
      }
      if (Date.now() >= deadline) throw this.busy(holder);
      await sleep(this.timing.pollMs);
    }
  }

  private async tryCreate(owner: LockOwner): Promise<boolean> {
    const temp = `${this.file}.${owner.token}.tmp`;
    try {
      await writeFile(temp, JSON.stringify(owner), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      throw new OperationFailed(`cannot lock ${path.dirname(this.file)}: ${(err as Error).message}`, [
        'every command that uses the secrets needs to write its lock file there; check the folder\'s owner and permissions',
      ]);
    }
    try {
      await link(temp, this.file);
      return true;
    } catch (err) {
      if (errorCode(err) === 'EEXIST') return false;
      throw new OperationFailed(`cannot lock ${path.dirname(this.file)}: ${(err as Error).message}`);
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  /** The current holder; 'gone' when the lock vanished meanwhile; undefined when unreadable. */
  private async holder(): Promise<LockOwner | 'gone' | undefined> {
    try {
      return parseOwner(await readFile(this.file, 'utf8'));
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return 'gone';
      throw new OperationFailed(`cannot read ${this.file}: ${(err as Error).message}`);
    }
  }

  /**
   * Moves the stale lock aside before deleting it, and deletes it only when it is still the one
   * judged stale: two processes taking over at once cannot delete each other's fresh lock.
   */
  private async takeOverStale(stale: LockOwner): Promise<void> {
    const aside = `${this.file}.${randomBytes(6).toString('hex')}.stale`;
    try {
      await rename(this.file, aside);
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return;
      throw err;
    }
    const moved = parseOwner(await readFile(aside, 'utf8').catch(() => ''));
    if (moved?.token !== stale.token) await link(aside, this.file).catch(() => undefined); // a live lock: put it back
    await unlink(aside).catch(() => undefined);
  }

  private async release(owner: LockOwner): Promise<void> {
    const current = await this.holder().catch(() => undefined);
    if (current !== undefined && current !== 'gone' && current.token === owner.token) await unlink(this.file).catch(() => undefined);
  }

  private busy(holder: LockOwner | undefined): OperationFailed {
    const who = holder === undefined ? 'another nix-infra run' : `${holder.purpose} (pid ${holder.pid} on ${holder.host}, since ${holder.since})`;
    return new OperationFailed(`${path.dirname(this.file)} is locked by ${who}`, [
      'wait for it to finish and run the command again',
      `if no such process is running any more, remove ${this.file}`,
    ]);
  }
}
