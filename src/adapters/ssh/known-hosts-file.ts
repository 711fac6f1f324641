import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { OperationFailed } from '../../domain/errors.js';
import { formatLine, keysFor, withoutHost, type HostKey } from '../../remote/known-hosts.js';

export type HostKeyVerdict =
  | { readonly kind: 'known' }
  | { readonly kind: 'new' }
  | { readonly kind: 'changed'; readonly pinned: readonly HostKey[] };

/** A lock older than this was left by a crashed run. */
const STALE_LOCK_MS = 10_000;
const LOCK_WAIT_MS = 15_000;

/**
 * The project's known_hosts file. Every change is a read-modify-write under a lock file
 * (`known_hosts.lock`, shared with other nix-infra processes, such as upstream-style scripts
 * running several commands at once) and a queue within this process, then an atomic rename, so
 * no concurrent change is lost.
 */
export class KnownHostsFile {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly file: string) {}

  async pinnedKeys(pattern: string): Promise<HostKey[]> {
    return keysFor(await this.text(), pattern);
  }

  async verdict(pattern: string, presented: HostKey): Promise<HostKeyVerdict> {
    const pinned = await this.pinnedKeys(pattern);
    if (pinned.length === 0) return { kind: 'new' };
    if (pinned.some((k) => k.type === presented.type && k.base64 === presented.base64)) return { kind: 'known' };
    return { kind: 'changed', pinned };
  }

  /** Pins the key of a host seen for the first time (keeps any line another run added). */
  record(pattern: string, key: HostKey): Promise<void> {
    return this.change((text) => (keysFor(text, pattern).length > 0 ? text : text + formatLine(pattern, key)));
  }

  /** Replaces every pinned key of a host with `key` (the operator accepted a changed key). */
  replace(pattern: string, key: HostKey): Promise<void> {
    return this.change((text) => withoutHost(text, pattern).replace(/\n*$/, '\n').replace(/^\n$/, '') + formatLine(pattern, key));
  }

  /** Drops every pinned key of a host (a server the provider has just created at this address). */
  forget(pattern: string): Promise<void> {
    return this.change((text) => withoutHost(text, pattern));
  }

  private change(edit: (text: string) => string): Promise<void> {
    const run = this.queue.then(() => this.locked(async () => {
      const before = await this.text();
      const after = edit(before);
      if (after === before) return;
      const temp = `${this.file}.${randomBytes(4).toString('hex')}.tmp`;
      try {
        await writeFile(temp, after, { mode: 0o644 });
        await rename(temp, this.file);
      } finally {
        await rm(temp, { force: true });
      }
    }));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async locked(work: () => Promise<void>): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const lock = `${this.file}.lock`;
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        await (await open(lock, 'wx')).close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const age = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
        if (age > STALE_LOCK_MS) await rm(lock, { force: true });
        else if (Date.now() > deadline) throw new OperationFailed(`${lock} is held by another nix-infra run; remove it if no other run is active`);
        else await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }
    try {
      await work();
    } finally {
      await rm(lock, { force: true });
    }
  }

  private async text(): Promise<string> {
    try {
      return await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw error;
    }
  }
}
