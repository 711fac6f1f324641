import { mkdtemp, rm } from 'node:fs/promises';
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
