import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../domain/errors.js';
import type { FileInfo, Workspace } from '../ports/workspace.js';

/** The project folder on the local disk. */
export class NodeWorkspace implements Workspace {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  resolve(relPath: string): string {
    if (path.isAbsolute(relPath)) {
      throw new UserError(`${relPath}: expected a path inside the project folder, got an absolute path`);
    }
    const abs = path.resolve(this.root, relPath);
    const rel = path.relative(this.root, abs);
    if (rel.startsWith('..') || path.isAbsolute(rel)) {
      throw new UserError(`${relPath}: path leaves the project folder ${this.root}`, {
        hints: ['names may not contain "../"'],
      });
    }
    return abs;
  }

  async stat(relPath: string): Promise<FileInfo | undefined> {
    try {
      const s = await stat(this.resolve(relPath));
      return { mode: s.mode & 0o7777, mtimeMs: s.mtimeMs, size: s.size, isDirectory: s.isDirectory() };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  readFile(relPath: string): Promise<Buffer> {
    return readFile(this.resolve(relPath));
  }

  async ensureDir(relPath: string, mode: number): Promise<boolean> {
    const abs = this.resolve(relPath);
    const created = await mkdir(abs, { recursive: true, mode });
    // mkdir's mode is filtered by the umask; set it exactly, but only on what we just created.
    if (created !== undefined) await chmod(abs, mode);
    return created !== undefined;
  }

  async writeFile(
    relPath: string,
    data: Buffer | string,
    options: { mode: number; exclusive?: boolean },
  ): Promise<boolean> {
    const target = this.resolve(relPath);
    if (options.exclusive && (await this.stat(relPath)) !== undefined) return false; // cheap early out
    const temp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      // The temp file is created with the final mode (0o600 for keys), so no moment exists in
      // which a secret sits in a world-readable file.
      const handle = await open(temp, 'wx', options.mode);
      try {
        await handle.writeFile(data);
        await handle.chmod(options.mode);
        await handle.sync();
      } finally {
        await handle.close();
      }
      if (!options.exclusive) {
        await rename(temp, target);
        return true;
      }
      // link() fails if the target appeared meanwhile: never overwrite what another run wrote.
      try {
        await link(temp, target);
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw error;
      }
    } finally {
      await rm(temp, { force: true });
    }
  }

  async listFiles(relPath: string): Promise<string[]> {
    const base = this.resolve(relPath);
    const entries = await readdir(base, { recursive: true, withFileTypes: true });
    return entries
      .filter((entry) => entry.isFile())
      .map((entry) => path.relative(base, path.join(entry.parentPath, entry.name)))
      .sort();
  }
}
