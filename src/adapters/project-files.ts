import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readdir, realpath, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { ProjectFileError, type ProjectEntry, type ProjectFiles } from '../ports/project-files.js';

function isInside(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent + path.sep);
}

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

/**
 * ProjectFiles on the local disk, confined per top folder: a path is followed only while its real
 * location (links resolved) stays inside the real location of the folder it starts with.
 */
export class NodeProjectFiles implements ProjectFiles {
  constructor(private readonly projectDir: string) {}

  private async folderRoot(relPath: string): Promise<{ root: string; abs: string }> {
    const folder = relPath.split('/')[0] as string;
    const project = await realpath(this.projectDir);
    const root = await realpath(path.join(project, folder)).catch((err: unknown) => {
      throw new ProjectFileError(code(err) === 'ENOENT' ? `${folder}/ does not exist in this project` : `${folder}/ cannot be read`);
    });
    return { root, abs: path.join(project, ...relPath.split('/')) };
  }

  /** The real path of an existing entry, refused when it leaves its folder. */
  private async confined(relPath: string): Promise<{ root: string; real: string }> {
    const { root, abs } = await this.folderRoot(relPath);
    const real = await realpath(abs).catch((err: unknown) => {
      throw new ProjectFileError(code(err) === 'ENOENT' ? `${relPath} does not exist` : `${relPath} cannot be read`);
    });
    if (!isInside(real, root)) throw new ProjectFileError(`${relPath} leads outside ${relPath.split('/')[0]}/ (a symbolic link): refused`);
    if (path.relative(root, real).split(path.sep).some((part) => part.startsWith('.'))) {
      throw new ProjectFileError(`${relPath} leads to a hidden file: refused`);
    }
    return { root, real };
  }

  async list(relPath: string, limit: number): Promise<{ entries: ProjectEntry[]; truncated: boolean }> {
    const { root, real } = await this.confined(relPath);
    const entries: ProjectEntry[] = [];
    let truncated = false;
    const walk = async (dir: string, rel: string): Promise<void> => {
      for (const name of (await readdir(dir)).sort()) {
        if (name.startsWith('.')) continue;
        if (entries.length >= limit) {
          truncated = true;
          return;
        }
        const full = path.join(dir, name);
        const target = await realpath(full).catch(() => undefined);
        // Dangling links and links out of the folder are left out, not followed.
        if (target === undefined || !isInside(target, root)) continue;
        const info = await stat(target);
        const entryPath = `${rel}/${name}`;
        entries.push({ path: entryPath, type: info.isDirectory() ? 'directory' : 'file', size: info.isDirectory() ? 0 : info.size });
        // A link to a folder is listed but not descended into: it could loop.
        if (info.isDirectory() && !(await lstat(full)).isSymbolicLink()) await walk(full, entryPath);
      }
    };
    if ((await stat(real)).isDirectory()) await walk(real, relPath.replace(/\/+$/, ''));
    else entries.push({ path: relPath, type: 'file', size: (await stat(real)).size });
    return { entries, truncated };
  }

  async read(relPath: string, maxBytes: number): Promise<Buffer> {
    const { real } = await this.confined(relPath);
    const info = await stat(real);
    if (info.isDirectory()) throw new ProjectFileError(`${relPath} is a folder: list it instead`);
    if (info.size > maxBytes) throw new ProjectFileError(`${relPath} is ${info.size} bytes, more than the ${maxBytes} this tool reads`);
    const handle = await open(real, 'r');
    try {
      const buffer = Buffer.alloc(Math.min(info.size, maxBytes));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  }

  async realPath(relPath: string): Promise<string> {
    return (await this.confined(relPath)).real;
  }

  async write(relPath: string, content: Buffer): Promise<void> {
    const { root, abs } = await this.folderRoot(relPath);
    const existing = await lstat(abs).catch(() => undefined);
    if (existing?.isSymbolicLink()) throw new ProjectFileError(`${relPath} is a symbolic link: refused`);
    if (existing?.isDirectory()) throw new ProjectFileError(`${relPath} is a folder`);
    // Every existing ancestor must resolve inside the folder before anything is created.
    let ancestor = path.dirname(abs);
    while ((await lstat(ancestor).catch(() => undefined)) === undefined) ancestor = path.dirname(ancestor);
    if (!isInside(await realpath(ancestor), root)) throw new ProjectFileError(`${relPath} leads outside ${relPath.split('/')[0]}/: refused`);
    await mkdir(path.dirname(abs), { recursive: true });
    if (!isInside(await realpath(path.dirname(abs)), root)) throw new ProjectFileError(`${relPath} leads outside its folder: refused`);
    const temp = path.join(path.dirname(abs), `.${path.basename(abs)}.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } catch (err) {
      await handle.close();
      await rm(temp, { force: true });
      throw err;
    }
    await handle.close();
    await rename(temp, abs);
  }
}
