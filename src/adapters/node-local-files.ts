import { createReadStream } from 'node:fs';
import { lstat, readFile, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { UserError } from '../domain/errors.js';
import type { LocalEntry, LocalFiles } from '../ports/local-files.js';

export class NodeLocalFiles implements LocalFiles {
  constructor(private readonly cwd: string) {}

  async walk(paths: readonly string[]): Promise<{ entries: LocalEntry[]; skipped: string[] }> {
    const entries: LocalEntry[] = [];
    const skipped: string[] = [];
    const seenTops = new Set<string>();
    const roots = await Promise.all(paths.map((given) => realpath(path.resolve(this.cwd, given)).catch(() => path.resolve(this.cwd, given))));
    const inside = (real: string): boolean => roots.some((root) => real === root || real.startsWith(`${root}${path.sep}`));
    const visit = async (absPath: string, relPath: string): Promise<void> => {
      const link = await lstat(absPath);
      if (link.isSymbolicLink()) {
        // A link is followed only to a file inside what the operator named: a link to
        // ~/.ssh/id_ed25519 in an uploaded tree must not send that key to every node.
        const real = await realpath(absPath).catch(() => undefined);
        if (real === undefined) return void skipped.push(`${absPath} (dangling link)`);
        if (!inside(real)) return void skipped.push(`${absPath} (links outside the uploaded paths)`);
      }
      const info = link.isSymbolicLink() ? await stat(absPath) : link;
      if (info.isDirectory()) {
        if (link.isSymbolicLink()) return void skipped.push(`${absPath} (link to a folder)`);
        entries.push({ relPath, absPath, isDirectory: true, mode: info.mode & 0o7777, size: 0 });
        for (const name of (await readdir(absPath)).sort()) await visit(path.join(absPath, name), `${relPath}/${name}`);
      } else if (info.isFile()) {
        entries.push({ relPath, absPath, isDirectory: false, mode: info.mode & 0o7777, size: info.size });
      } else {
        skipped.push(`${absPath} (not a regular file)`);
      }
    };
    for (const given of paths) {
      const absPath = path.resolve(this.cwd, given);
      const top = path.basename(absPath);
      if (seenTops.has(top)) throw new UserError(`--file: two paths would both upload as "${top}"`);
      seenTops.add(top);
      try {
        await visit(absPath, top);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError(`--file: ${absPath}: no such file or folder`);
        throw err;
      }
    }
    return { entries, skipped };
  }

  read(absPath: string): Promise<Buffer> {
    return readFile(absPath);
  }

  stream(absPath: string): Readable {
    return createReadStream(absPath);
  }
}
