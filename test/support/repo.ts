import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';

/** Tests run from the repository root (`npm test`), so fixtures are found relative to it. */
export const repoRoot = process.cwd();

export function fixture(...parts: string[]): string {
  return path.join(repoRoot, 'test', 'fixtures', ...parts);
}

/** A fresh temporary folder, removed when the test ends (also when it fails). */
export async function tempDir(t: TestContext, prefix = 'nix-infra-test-'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Every entry below `dir` with content hash, mode and mtime: equal snapshots mean nothing changed. */
export async function snapshot(dir: string): Promise<Map<string, string>> {
  const result = new Map<string, string>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name);
    const info = await stat(full);
    const hash = entry.isFile() ? createHash('sha256').update(await readFile(full)).digest('hex') : 'dir';
    result.set(path.relative(dir, full), `${hash} ${(info.mode & 0o7777).toString(8)} ${info.mtimeMs}`);
  }
  return result;
}
