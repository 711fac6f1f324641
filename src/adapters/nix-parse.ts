import { execFile } from 'node:child_process';

/** `nix-instantiate --parse FILE`: syntax only, nothing evaluated or built. */
export function parseNixFile(absPath: string): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile('nix-instantiate', ['--parse', absPath], { timeout: 15_000, maxBuffer: 1024 * 1024 }, (err, _stdout, stderr) => {
      if (err === null) return resolve({ ok: true, output: '' });
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      resolve({ ok: false, output: missing ? 'nix-instantiate is not installed on this machine' : stderr.slice(0, 4000) });
    });
  });
}
