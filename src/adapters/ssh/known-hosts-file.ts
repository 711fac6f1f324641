import { appendFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { formatLine, keysFor, withoutHost, type HostKey } from '../../remote/known-hosts.js';

export type HostKeyVerdict =
  | { readonly kind: 'known' }
  | { readonly kind: 'new' }
  | { readonly kind: 'changed'; readonly pinned: readonly HostKey[] };

/**
 * The project's known_hosts file. New hosts are appended (a single O_APPEND write, so parallel
 * nix-infra runs cannot lose each other's lines); replacing a key rewrites the file atomically.
 */
export class KnownHostsFile {
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

  async record(pattern: string, key: HostKey): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    await appendFile(this.file, formatLine(pattern, key), { mode: 0o644 });
  }

  async replace(pattern: string, key: HostKey): Promise<void> {
    const kept = withoutHost(await this.text(), pattern).replace(/\n*$/, '\n').replace(/^\n$/, '');
    const temp = `${this.file}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(temp, kept + formatLine(pattern, key), { mode: 0o644 });
      await rename(temp, this.file);
    } finally {
      await rm(temp, { force: true });
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

